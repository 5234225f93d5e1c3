"""The consolidation policies of Beloglazov & Buyya 2012 (``virtsim.placement``), on hand-computed cases.

Detectors on short series whose thresholds are worked out by hand; selection
policies on small hand-made sets (MC against an independent formula for the
multiple correlation); PABFD on instances whose best fit is computable by hand,
and its invariants under hypothesis; the underload step and one full round.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.model.power import LinearCurve, TableCurve
from virtsim.placement import HostState, VmRecord, consolidation_round, evacuate_underloaded, host_detector, pabfd
from virtsim.placement.overload import (
    FALLBACK_THRESHOLD, iqr, iqr_overloaded, local_regression, lr_overloaded, lrr_overloaded, mad, mad_overloaded,
    steps_ahead, thr_overloaded, tricube_weights,
)
from virtsim.placement.pabfd import power_increase
from virtsim.placement.selection import (
    correlation_scores, select_mc, select_mmt, select_mu, select_rs, vms_to_migrate,
)

GIB = 2**30
#: Ten values; sorted: 0.30 0.35 0.40 0.45 0.50 0.50 0.55 0.60 0.65 0.70.
TEN = np.array([0.30, 0.50, 0.40, 0.60, 0.55, 0.45, 0.35, 0.65, 0.70, 0.50])


# --- overload detection -----------------------------------------------------------------------------------------

def test_thr_is_strictly_above_the_threshold():
    assert thr_overloaded([0.2, 0.85], threshold=0.8).overloaded
    assert not thr_overloaded([0.2, 0.8], threshold=0.8).overloaded
    assert thr_overloaded([], threshold=0.8, current=0.9).value == 0.9


def test_iqr_threshold_by_hand():
    # n = 10: Q1 is the 3rd value (round(2.75)), Q3 the 8th (round(8.25)): 0.60 − 0.40 = 0.20; T = 1 − 1.5·0.2 = 0.7.
    assert iqr(TEN) == pytest.approx(0.20)
    at_half = iqr_overloaded(TEN, min_history=10)
    assert at_half.method == "iqr" and at_half.threshold == pytest.approx(0.70) and not at_half.overloaded
    assert iqr_overloaded(TEN, min_history=10, current=0.72).overloaded


def test_iqr_rounds_half_ranks_up_as_cloudsim():
    # n = 9: ranks round(2.5) = 3 and round(7.5) = 8 (Java's Math.round), not Python's round-half-even 2 and 8.
    assert iqr(np.arange(1, 10) / 10) == pytest.approx(0.8 - 0.3)


def test_mad_threshold_by_hand():
    # median 0.50; deviations 0.20 0 0.10 0.10 0.05 0.05 0.15 0.15 0.20 0 → median 0.10; T = 1 − 2.5·0.1 = 0.75.
    assert mad(TEN) == pytest.approx(0.10)
    detection = mad_overloaded(TEN, min_history=10, current=0.76)
    assert detection.threshold == pytest.approx(0.75) and detection.overloaded
    assert not mad_overloaded(TEN, min_history=10, current=0.75).overloaded


def test_short_histories_fall_back_to_thr_at_0_7():
    for detect in (iqr_overloaded, mad_overloaded, lr_overloaded, lrr_overloaded):
        detection = detect(TEN[:9], current=0.71)  # 9 values: fewer than LR's 10 and MAD/IQR's 12
        assert detection.method == "thr-fallback" and detection.threshold == FALLBACK_THRESHOLD
        assert detection.overloaded
        assert not detect(TEN[:9], current=0.69).overloaded
    assert iqr_overloaded(TEN).method == "thr-fallback"  # 10 values are fewer than 12


LINE = 0.10 + 0.05 * np.arange(10)  # 0.10 … 0.55: the next value is 0.60


def test_lr_on_a_line_predicts_its_linear_extrapolation():
    detection = lr_overloaded(LINE)
    assert detection.value == pytest.approx(0.60, abs=1e-12) and detection.threshold == pytest.approx(1 / 1.2)
    assert not detection.overloaded  # 1.2 × 0.60 < 1
    assert lr_overloaded(LINE, migration_time_s=600, interval_s=300).value == pytest.approx(0.65, abs=1e-12)
    steep = 0.35 + 0.05 * np.arange(10)  # next value 0.85: 1.2 × 0.85 = 1.02 ≥ 1
    assert lr_overloaded(steep).overloaded
    assert lr_overloaded(np.r_[np.zeros(5), LINE]).value == pytest.approx(0.60, abs=1e-12)  # the last 10 only


def test_lr_weights_are_the_tricube_of_the_distance_to_the_newest():
    weights = tricube_weights(10)
    assert weights[-1] == 1 and weights[0] == 0
    assert weights[4] == pytest.approx((1 - (5 / 9) ** 3) ** 3)
    curved = np.linspace(0, 1, 10) ** 2
    ours = local_regression(curved)
    # numpy's polyfit weights the residuals, not their squares: sqrt of the tricube weights is the same fit.
    slope, intercept = np.polyfit(np.arange(1, 11), curved, 1, w=np.sqrt(weights))
    assert ours == pytest.approx((intercept, slope), rel=1e-9)
    plain_slope, _ = np.polyfit(np.arange(1, 11), curved, 1)
    assert ours[1] > plain_slope  # the newest, steeper part weighs more than under plain least squares


def test_lrr_equals_lr_on_a_clean_series_and_resists_one_outlier():
    assert lrr_overloaded(LINE).value == pytest.approx(lr_overloaded(LINE).value, abs=1e-12)
    spiked = LINE.copy()
    spiked[4] = 0.95  # one outlier in the middle of the window
    plain, robust = lr_overloaded(spiked).value, lrr_overloaded(spiked).value
    assert abs(robust - 0.60) < abs(plain - 0.60)
    assert abs(lrr_overloaded(spiked, robust_iterations=3).value - 0.60) < abs(robust - 0.60)


def test_steps_ahead_is_at_least_the_next_value():
    assert steps_ahead(0, 300) == 1 and steps_ahead(300, 300) == 1 and steps_ahead(301, 300) == 2


# --- VM selection -------------------------------------------------------------------------------------------------

def vm(name, ram_gib=1.0, demand=1.0, capacity=1.0, history=(), migrating=False) -> VmRecord:
    return VmRecord(name, ram_gib * GIB, demand, capacity, np.asarray(history, dtype=float), migrating)


def test_mmt_takes_the_least_ram_skipping_migrating_vms_first_on_ties():
    vms = [vm("a", 4), vm("b", 1, migrating=True), vm("c", 2), vm("d", 2)]
    assert select_mmt(vms).id == "c"
    assert select_mmt([vm("x", migrating=True)]) is None and select_mmt([]) is None


def test_mu_takes_the_least_utilized_of_its_own_cpu():
    vms = [vm("a", demand=1.0, capacity=4), vm("b", demand=0.5, capacity=1), vm("c", demand=0.9, capacity=2)]
    assert select_mu(vms).id == "a"  # 0.25 < 0.45 < 0.5


def test_rs_draws_from_the_generator_uniformly():
    vms = [vm(name) for name in "abcd"]
    picks = [select_rs(vms, np.random.default_rng(seed)).id for seed in range(200)]
    assert set(picks) == set("abcd")
    assert picks == [select_rs(vms, np.random.default_rng(seed)).id for seed in range(200)]
    rng = np.random.default_rng(7)
    expected = vms[int(np.random.default_rng(7).integers(4))].id
    assert select_rs(vms, rng).id == expected
    with pytest.raises(ValueError, match="needs a numpy random Generator"):
        select_rs(vms)


def test_mc_scores_are_the_multiple_correlation_of_each_on_the_others():
    rng = np.random.default_rng(3)
    base = rng.random(12)
    histories = [base, 0.5 * base + 0.05 * rng.random(12), rng.random(12), 0.3 * base + 0.3 * rng.random(12)]
    scores = correlation_scores(histories)
    # Independent formula: R²_i = 1 − 1 / (R⁻¹)_ii, R the correlation matrix.
    expected = 1 - 1 / np.diag(np.linalg.inv(np.corrcoef(np.stack(histories))))
    assert scores == pytest.approx(list(expected), rel=1e-9)
    vms = [vm(f"v{i}", history=h) for i, h in enumerate(histories)]
    assert select_mc(vms).id == f"v{int(np.argmax(expected))}"


def test_mc_aligns_histories_on_the_newest_values():
    long = np.r_[np.full(5, 9.0), np.arange(6.0)]
    scores = correlation_scores([long, 2 * np.arange(6.0) + np.array([0, 0.1, 0, 0.1, 0, 0.1]), np.arange(6.0) ** 2])
    assert scores == correlation_scores([long[-6:], 2 * np.arange(6.0) + np.array([0, 0.1, 0, 0.1, 0, 0.1]),
                                         np.arange(6.0) ** 2])


def test_mc_falls_back_to_mmt_when_the_regression_is_not_determined():
    short = [vm("big", 8, history=[0.1, 0.2]), vm("small", 1, history=[0.3, 0.1]), vm("mid", 2, history=[0.2, 0.2])]
    assert correlation_scores([v.history for v in short]) is None
    assert select_mc(short).id == "small"
    assert select_mc([vm("only", history=np.arange(20.0))]).id == "only"


def test_vms_leave_until_the_host_is_no_longer_overloaded():
    vms = [vm("a", 4, demand=2), vm("b", 1, demand=1), vm("c", 2, demand=1.5)]
    chosen = vms_to_migrate(vms, select_mmt, lambda left: sum(v.cpu_demand for v in left) > 3)
    assert [v.id for v in chosen] == ["b", "c"]  # 4.5 → 3.5 (b leaves) → 2 (c leaves)
    assert [v.id for v in vms_to_migrate(vms, select_mmt, lambda left: True)] == ["b", "c", "a"]


# --- PABFD --------------------------------------------------------------------------------------------------------

def host(name, cores=4.0, idle=100.0, peak=200.0, vms=(), threshold=1.0, memory_gib=16.0) -> HostState:
    return HostState(name, cores, memory_gib * GIB, LinearCurve(off_w=0.0, idle_w=idle, max_w=peak), tuple(vms),
                     threshold)


def test_pabfd_places_the_largest_first_where_power_grows_least():
    # h1 grows 100 W per unit of utilization, h2 160 W: both VMs go to h1 until its threshold (0.8) bars c.
    hosts = [host("h2", idle=80, peak=240), host("h1", threshold=0.8), host("full", memory_gib=0.5)]
    vms = [vm("c", demand=1), vm("a", demand=2), vm("b", demand=1)]
    placement = pabfd(vms, hosts)
    assert list(placement.placed) == ["a", "c", "b"]  # by CPU demand, decreasing; ties keep their order
    # a: +50 W on h1 vs +80 W on h2 → h1 (0.5); c: +25 vs +40 → h1 (0.75); b: h1 would reach 1.0 > 0.8 → h2.
    assert placement.placed == {"a": "h1", "c": "h1", "b": "h2"}
    assert placement.unplaced == ()
    by_id = {h.id: h for h in placement.hosts}
    assert by_id["h1"].utilization == pytest.approx(0.75) and by_id["h2"].utilization == pytest.approx(0.25)
    assert [v.id for v in hosts[1].vms] == []  # the input hosts are not changed


def test_pabfd_follows_a_table_curve_and_reports_what_fits_nowhere():
    # A table host whose draw flattens above 50 %: adding 1 core at 50 % costs less there than on an idle linear host.
    flat = HostState("flat", 4.0, 16 * GIB, TableCurve(off_w=0.0, readings_w=(100, 140, 170, 190, 200, 205, 208,
                                                                                 210, 212, 214, 216)),
                     (vm("resident", demand=2),))
    linear = host("linear")
    assert power_increase(flat, vm("x", demand=1)) == pytest.approx(210 + 0.5 * (212 - 210) - 205)  # 50 % → 75 %: 6 W
    assert power_increase(linear, vm("x", demand=1)) == pytest.approx(25)
    placement = pabfd([vm("x", demand=1), vm("huge", demand=5)], [linear, flat], exclude=())
    assert placement.placed == {"x": "flat"} and placement.unplaced == ("huge",)
    assert pabfd([vm("x", demand=1)], [linear, flat], exclude={"flat"}).placed == {"x": "linear"}


def test_cloudsims_idle_exemption_lets_a_lone_vm_exceed_the_threshold():
    hosts = [host("h", threshold=0.5)]
    assert pabfd([vm("a", demand=3)], hosts).unplaced == ("a",)
    assert pabfd([vm("a", demand=3)], hosts, exempt_idle_hosts=True).placed == {"a": "h"}


hosts_strategy = st.lists(
    st.tuples(st.floats(1, 64), st.floats(1, 256), st.floats(0.3, 1.0), st.floats(10, 200), st.floats(0, 300)),
    min_size=1, max_size=6)
vms_strategy = st.lists(st.tuples(st.floats(0.05, 16), st.floats(0.1, 64)), min_size=0, max_size=25)


@settings(max_examples=200, deadline=None)
@given(hosts_strategy, vms_strategy)
def test_pabfd_never_overloads_a_host_and_accounts_for_every_vm(host_specs, vm_specs):
    hosts = [HostState(f"h{i}", cores, mem * GIB, LinearCurve(off_w=0, idle_w=idle, max_w=idle + extra), (), thr)
             for i, (cores, mem, thr, idle, extra) in enumerate(host_specs)]
    vms = [vm(f"v{i}", ram, demand) for i, (demand, ram) in enumerate(vm_specs)]
    placement = pabfd(vms, hosts)
    assert set(placement.placed) | set(placement.unplaced) == {v.id for v in vms}
    assert not set(placement.placed) & set(placement.unplaced)
    final = {h.id: h for h in placement.hosts}
    for h in placement.hosts:
        assert h.utilization <= h.threshold + 1e-9
        assert h.memory_used_bytes <= h.memory_capacity_bytes * (1 + 1e-9)
    for vid, hid in placement.placed.items():
        assert vid in {v.id for v in final[hid].vms}
    for vid in placement.unplaced:  # hosts only fill up: an unplaced VM still fits nowhere
        lost = next(v for v in vms if v.id == vid)
        assert all(not h.fits(lost) or h.with_vm(lost).utilization > h.threshold for h in placement.hosts)


# --- underload and a full round -------------------------------------------------------------------------------

def test_the_least_utilized_host_whose_vms_all_fit_elsewhere_is_evacuated():
    hosts = [host("h1", vms=[vm("a", demand=0.8)]),                  # 0.2: least, its VM fits on h2
             host("h2", vms=[vm("b", demand=2.0)]),                  # 0.5: takes a (0.7), then is a target
             host("h3", vms=[vm("c", demand=2.4)]),                  # 0.6: c fits nowhere (h2 would reach 1.3)
             host("off")]                                            # switched off: neither source nor target
    evacuation = evacuate_underloaded(hosts)
    assert evacuation.migrations == {"a": "h2"} and evacuation.evacuated == ("h1",)
    by_id = {h.id: h for h in evacuation.hosts}
    assert by_id["h1"].vms == () and [v.id for v in by_id["h2"].vms] == ["b", "a"]
    assert [v.id for v in by_id["h3"].vms] == ["c"] and by_id["off"].vms == ()


def test_overloaded_hosts_are_neither_evacuated_nor_targets():
    hosts = [host("h1", vms=[vm("a", demand=0.8)]), host("hot", vms=[vm("b", demand=1.0)])]
    assert evacuate_underloaded(hosts, overloaded_hosts={"hot"}).migrations == {}
    assert evacuate_underloaded(hosts).migrations == {"a": "hot"}  # hot (0.25) is not least; h1 (0.2) moves to it


def test_one_round_sheds_the_overload_then_empties_the_underloaded():
    hosts = [host("hot", threshold=0.8, vms=[vm("big", 8, demand=2), vm("small", 1, demand=1.5)]),  # 0.875 > 0.8
             host("mid", threshold=0.8, vms=[vm("m", demand=1.2)]),                                 # 0.3
             host("low", threshold=0.8, vms=[vm("l", demand=0.4)])]                                 # 0.1
    result = consolidation_round(hosts, select_mmt)
    assert result.overloaded == ("hot",)
    moves = [(m.vm, m.source, m.target, m.reason) for m in result.migrations]
    # MMT takes "small" (least RAM): hot falls to 0.5. PABFD: mid and low grow alike (same curve): the first, mid.
    # Then low (0.1) is the least utilized: l goes to mid (0.675 + 0.1 = 0.775 ≤ 0.8); mid is a target, hot is out.
    assert moves == [("small", "hot", "mid", "overload"), ("l", "low", "mid", "underload")]
    assert result.evacuated == ("low",)
    by_id = {h.id: h for h in result.hosts}
    assert by_id["hot"].utilization == pytest.approx(0.5) and by_id["mid"].utilization == pytest.approx(0.775)


def test_a_host_detector_reads_the_vms_histories():
    history = 0.10 + 0.05 * np.arange(10)  # the VM's own utilization, rising: next 0.60 of its 2 cores
    h = host("h", vms=[vm("a", demand=1.1, capacity=2, history=history)])
    assert h.utilization_history() == pytest.approx(history * 2 / 4)
    assert not host_detector("lr")(h)  # predicted 0.30 of the host
    assert host_detector("lr", safety=4.0)(h)  # 4 × 0.30 ≥ 1
    assert host_detector("thr", threshold=0.25)(h)  # current 1.1 / 4 = 0.275
    with pytest.raises(ValueError, match="unknown overload detector 'lrx'; known: thr, mad, iqr, lr, lrr"):
        host_detector("lrx")
