"""Unit and property tests of the one-level sharing functions (virtsim.engine.fairshare)."""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from virtsim.engine import fairshare
from virtsim.engine.fairshare import POLICIES, SPLITS, max_min, policy_split, proportional, waterfill, waterfill_with_floors
from virtsim.engine.sharing import RateResource

from maxmin_reference import maxmin_lp, proportional_ref

REL = 1e-7


def close(a: float, b: float, scale: float = 1.0, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(scale), abs(a), abs(b))


def assert_allclose(got, expected, scale: float = 1.0, rel: float = REL) -> None:
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert close(g, e, scale, rel), f"child {i}: got {g!r}, expected {e!r} (all: {got} vs {expected})"


# -- examples ------------------------------------------------------------------


def test_design_example_max_min():
    assert_allclose(waterfill(8, [4, 4, 1, 1], [1, 1, 1, 1]), [3, 3, 1, 1])
    assert_allclose(waterfill_with_floors(8, [4, 4, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]), [3, 3, 1, 1])


def test_design_example_proportional():
    assert_allclose(proportional(8, [4, 4, 1, 1], [1, 1, 1, 1]), [3.2, 3.2, 0.8, 0.8])
    assert_allclose(proportional(8, [4, 4, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]), [3.2, 3.2, 0.8, 0.8])


def test_proportional_ignores_weights():
    assert_allclose(proportional(8, [4, 4, 1, 1], [5, 1, 2, 1]), [3.2, 3.2, 0.8, 0.8])


def test_under_demand_everyone_gets_their_demand():
    assert waterfill(10, [1, 2, 3], [1, 1, 1]) == [1, 2, 3]
    assert waterfill_with_floors(10, [1, 2, 3], [1, 1, 1], [1, 0, 0]) == [1, 2, 3]
    assert proportional(10, [1, 2, 3], [1, 1, 1]) == [1, 2, 3]


def test_weights_split_in_proportion():
    assert_allclose(waterfill(3, [5, 5], [2, 1]), [2, 1])
    assert_allclose(waterfill(6, [10, 10, 10], [1, 2, 3]), [1, 2, 3])


def test_weights_with_a_satisfied_child_redistribute_its_leftover():
    # Fair shares at weights 2:1:1 of 8 would be 4:2:2; the first wants only 1,
    # so the other two split the remaining 7 equally.
    assert_allclose(waterfill(8, [1, 10, 10], [2, 1, 1]), [1, 3.5, 3.5])
    # Leftover goes by weight: 7 split 2:1 after the satisfied child.
    assert_allclose(waterfill(8, [1, 10, 10], [1, 2, 1]), [1, 14 / 3, 7 / 3])


def test_zero_demand_child_gets_nothing():
    assert_allclose(waterfill(4, [0, 10, 10], [1, 1, 1]), [0, 2, 2])


def test_floors_are_served_first():
    # A reserves 3 of 4: it gets 3, B the rest, although weights are equal.
    assert_allclose(waterfill_with_floors(4, [10, 10], [1, 1], [3, 0]), [3, 1])
    # A reservation below the fair share changes nothing.
    assert_allclose(waterfill_with_floors(4, [10, 10], [1, 1], [1, 0]), [2, 2])
    # DESIGN example with a reservation of 3.5 on the second child.
    assert_allclose(waterfill_with_floors(8, [4, 4, 1, 1], [1, 1, 1, 1], [0, 3.5, 0, 0]),
                    [2.5, 3.5, 1, 1])


def test_floor_then_weight():
    # x = min(d, max(f, L*w)): f=(2,0,0), w=(1,1,2), capacity 6 -> L=1.5 gives 2+1.5+3=6.5;
    # L such that 2 + L + 2L = 6 -> L = 4/3, and 4/3 < 2 so the first stays at its floor.
    assert_allclose(waterfill_with_floors(6, [10, 10, 10], [1, 1, 2], [2, 0, 0]), [2, 4 / 3, 8 / 3])


def test_overcommitted_floors_are_scaled_down():
    assert_allclose(waterfill_with_floors(3, [5, 5, 5], [1, 1, 1], [2, 2, 0]), [1.5, 1.5, 0])
    assert_allclose(proportional(3, [5, 5, 5], [1, 1, 1], [2, 2, 0]), [1.5, 1.5, 0])


def test_proportional_with_floors():
    # Demands (4, 4, 2), floors (2, 0, 0): the unreserved demands 2, 4, 2 (total 8)
    # share the 8 - 2 = 6 left after the floor, a factor 0.75.
    assert_allclose(proportional(8, [4, 4, 2], [1, 1, 1], [2, 0, 0]), [3.5, 3, 1.5])


def test_policy_names():
    assert POLICIES == ("max-min", "proportional")


def test_a_policy_name_maps_to_its_split():
    assert SPLITS == {"max-min": max_min, "proportional": proportional} and tuple(SPLITS) == POLICIES
    assert policy_split("proportional", "cpu0") is proportional
    assert max_min(8, [4, 4, 1, 1], [1, 1, 1, 1]) == waterfill(8, [4, 4, 1, 1], [1, 1, 1, 1])
    floors = [0.0, 3.5, 0.0, 0.0]
    assert max_min(8, [4, 4, 1, 1], [1, 1, 1, 1], floors) == waterfill_with_floors(8, [4, 4, 1, 1], [1, 1, 1, 1], floors)


@pytest.mark.parametrize("policy", ["fifo", "Max-Min", "", None, ["max-min"]])
def test_an_unknown_policy_is_named_with_the_valid_ones(policy):
    message = f"cpu0: policy must be 'max-min' or 'proportional', got {policy!r}"
    with pytest.raises(ValueError) as raised:
        policy_split(policy, "cpu0")
    assert str(raised.value) == message
    with pytest.raises(ValueError) as raised:
        RateResource(simpy.Environment(), 4.0, name="cpu0", policy=policy)
    assert str(raised.value) == message


def _first_served(capacity, demands, weights, floors=None):
    """Each child in turn gets what it asks for, while anything is left."""
    alloc = []
    for demand in demands:
        alloc.append(min(demand, capacity))
        capacity -= alloc[-1]
    return alloc


def test_the_engine_splits_by_the_policy_table(monkeypatch):
    """A policy added to the table is accepted by name and used by every contended split."""
    monkeypatch.setitem(fairshare.SPLITS, "first-served", _first_served)
    env = simpy.Environment()
    host = RateResource(env, 2.0, name="cpu0", policy="first-served")
    a, b = host.root.add_child("a"), host.root.add_child("b")
    a.submit(10.0, max_rate=3.0)
    b.submit(1.0, max_rate=1.0)
    assert (a.alloc, b.alloc) == (2.0, 0.0)  # max-min: (1, 1); proportional: (1.5, 0.5)
    with pytest.raises(ValueError, match="'max-min' or 'proportional' or 'first-served', got 'fifo'"):
        RateResource(env, 2.0, name="cpu0", policy="fifo")


# -- properties ----------------------------------------------------------------

capacities = st.floats(min_value=0.01, max_value=100.0)
demand_values = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=50.0),
                          st.sampled_from([1.0, 2.0, 4.0]))
weight_values = st.one_of(st.floats(min_value=0.05, max_value=20.0), st.sampled_from([1.0, 2.0]))


@st.composite
def problems(draw, with_floors: bool = False, feasible_floors: bool = True):
    n = draw(st.integers(min_value=1, max_value=8))
    capacity = draw(capacities)
    demands = draw(st.lists(demand_values, min_size=n, max_size=n))
    weights = draw(st.lists(weight_values, min_size=n, max_size=n))
    if not with_floors:
        return capacity, demands, weights, None
    fractions = draw(st.lists(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)),
                              min_size=n, max_size=n))
    floors = [f * d for f, d in zip(fractions, demands)]
    if feasible_floors and sum(floors) > capacity:
        # Admission control: scale the reservations so that they fit.
        k = draw(st.floats(min_value=0.0, max_value=1.0)) * capacity / sum(floors)
        floors = [f * k for f in floors]
    return capacity, demands, weights, floors


def check_basic(capacity, demands, alloc):
    assert len(alloc) == len(demands)
    for a, d in zip(alloc, demands):
        assert a >= 0.0
        assert a <= d * (1 + 1e-12) + 1e-15
    expected_total = min(capacity, sum(demands))
    assert math.isclose(sum(alloc), expected_total, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=300, deadline=None)
@given(problems())
def test_waterfill_properties(problem):
    capacity, demands, weights, _ = problem
    alloc = waterfill(capacity, demands, weights)
    check_basic(capacity, demands, alloc)
    # Max-min characterisation: a child below its demand has the highest level
    # alloc/weight among all children (nobody is favoured over it).
    top = max(a / w for a, w in zip(alloc, weights))
    for a, d, w in zip(alloc, demands, weights):
        if a < d * (1 - 1e-9):
            assert a / w >= top * (1 - 1e-9)


@settings(max_examples=300, deadline=None)
@given(problems(with_floors=True))
def test_waterfill_with_floors_properties(problem):
    capacity, demands, weights, floors = problem
    alloc = waterfill_with_floors(capacity, demands, weights, floors)
    check_basic(capacity, demands, alloc)
    # Feasible floors are honoured.
    for a, f in zip(alloc, floors):
        assert a >= f * (1 - 1e-9)


@settings(max_examples=150, deadline=None)
@given(problems(with_floors=True, feasible_floors=False))
def test_waterfill_with_overcommitted_floors_stays_feasible(problem):
    capacity, demands, weights, floors = problem
    alloc = waterfill_with_floors(capacity, demands, weights, floors)
    check_basic(capacity, demands, alloc)


@settings(max_examples=150, deadline=None)
@given(problems(with_floors=True, feasible_floors=False))
def test_proportional_properties(problem):
    capacity, demands, weights, floors = problem
    for fl in (None, floors):
        alloc = proportional(capacity, demands, weights, fl)
        check_basic(capacity, demands, alloc)
        assert_allclose(alloc, proportional_ref(capacity, demands, fl), capacity)


@settings(max_examples=200, deadline=None)
@given(problems())
def test_waterfill_matches_lp_reference(problem):
    capacity, demands, weights, _ = problem
    assert_allclose(waterfill(capacity, demands, weights), maxmin_lp(capacity, demands, weights), capacity)


@settings(max_examples=200, deadline=None)
@given(problems(with_floors=True, feasible_floors=False))
def test_waterfill_with_floors_matches_lp_reference(problem):
    capacity, demands, weights, floors = problem
    assert_allclose(waterfill_with_floors(capacity, demands, weights, floors),
                    maxmin_lp(capacity, demands, weights, floors), capacity)


@settings(max_examples=100, deadline=None)
@given(problems())
def test_zero_floors_equal_plain_waterfill(problem):
    capacity, demands, weights, _ = problem
    assert_allclose(waterfill_with_floors(capacity, demands, weights, [0.0] * len(demands)),
                    waterfill(capacity, demands, weights), capacity, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(problems(with_floors=True), st.floats(min_value=1.0, max_value=10.0))
def test_more_capacity_never_lowers_an_allocation(problem, factor):
    capacity, demands, weights, floors = problem
    more = capacity * factor
    for before, after in (
        (waterfill(capacity, demands, weights), waterfill(more, demands, weights)),
        (waterfill_with_floors(capacity, demands, weights, floors),
         waterfill_with_floors(more, demands, weights, floors)),
        (proportional(capacity, demands, weights, floors), proportional(more, demands, weights, floors)),
    ):
        for b, a in zip(before, after):
            assert a >= b - 1e-9 * max(1.0, more)


@settings(max_examples=100, deadline=None)
@given(problems())
def test_waterfill_is_symmetric_in_the_order_of_children(problem):
    capacity, demands, weights, _ = problem
    assume(len(demands) > 1)
    alloc = waterfill(capacity, demands, weights)
    rev = waterfill(capacity, demands[::-1], weights[::-1])[::-1]
    assert_allclose(alloc, rev, capacity, rel=1e-9)
