"""The live-migration arithmetic of ``virtsim.model.migration``: pre-copy, post-copy, CloudSim's formula.

Theory: an idle guest takes one round, RAM / rate; a constant dirty rate gives
the geometric series (iteration and closed form agree); the downtime never
exceeds the limit unless the round limit forced the stop-and-copy; no plan
sends less than the RAM.

Validation against ``shared/calibration/type2-startup-migration.md`` §7:

* §7.4, the worked example of a guest that never converges (8 GiB, 39,044
  dirty pages/s, 866.83 Mbit/s): replayed. Its dirty rate exceeds the
  throughput, so the model never converges under the 300 ms default, as the
  row says (with the working set at its lower bound, the 376,892 KiB the row
  shows remaining, the case most favourable to convergence). And what one
  second of running dirties, 39,044 pages of 4 KiB, takes 1,475.9 ms to send
  at that throughput: QEMU's "expected downtime: 1475 milliseconds", which
  confirms the page size and the units (tolerance 0.1 %: the published value
  is rounded to the ms).
* §7.6, CloudSim's formula: its code comment's "around 16 seconds for 1024 MB
  using 1 Gbit/s" (16.4 s derived in the file) is replayed to 0.1 s.
* §7.2, OPNFV KVM on 10 GbE: not replayable as a fit. The guest's RAM is given
  as both 1 GiB and 8 GiB, the DPDK guest's dirty rate and the bandwidth cap
  used are not given, and an idle guest's zero pages never cross the wire.
  Checked as envelopes: the idle guest's 2,070 ms lies between sending 1 GiB
  and 8 GiB at line rate; its optimized 401 ms is less than 1 GiB takes at line
  rate, so fewer bytes than the RAM crossed (zero pages, which the model does
  not skip: a strict xfail). The downtimes after the optimizations (9 and
  5 ms) are within the 10 ms limit, as the model's always are; the ones
  before (29 and 26 ms) exceed it by fixed stop-and-copy work the model does
  not have (a strict xfail).
* §7.1, Clark et al.'s 60 ms and 210 ms downtimes: not replayable; the
  guests' RAM, dirty rates, working sets and the link are not in the
  calibration file.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from virtsim.model.migration import (
    DEFAULT_BANDWIDTH_CAP_BYTES_PER_S, DEFAULT_DOWNTIME_LIMIT_S, MigrationParams, cloudsim_migration_time,
    postcopy_plan, precopy_closed_form, precopy_plan,
)

GIB = 2**30
MIB = 2**20
TEN_GBE = 10e9 / 8  # bytes/s at line rate


def uncapped(**kw) -> MigrationParams:
    return MigrationParams(bandwidth_cap_bytes_per_s=None, **kw)


# --- theory -------------------------------------------------------------------------------------------------------

def test_an_idle_guest_takes_one_round_of_ram_over_bandwidth():
    plan = precopy_plan(uncapped(ram_bytes=GIB), 125e6)
    assert len(plan.rounds) == 1
    assert plan.total_time_s == pytest.approx(GIB / 125e6, rel=1e-12)
    assert plan.downtime_s == 0 and plan.total_bytes == GIB and not plan.round_limit_hit


def test_qemus_default_cap_bounds_the_rate():
    plan = precopy_plan(MigrationParams(ram_bytes=GIB), TEN_GBE)
    assert plan.rate_bytes_per_s == DEFAULT_BANDWIDTH_CAP_BYTES_PER_S == 128 * MIB
    assert plan.total_time_s == pytest.approx(8.0, rel=1e-12)  # 1 GiB at 128 MiB/s
    assert precopy_plan(MigrationParams(ram_bytes=GIB), 100 * MIB).rate_bytes_per_s == 100 * MIB  # link below the cap


def test_a_constant_dirty_rate_halves_each_round_by_hand():
    # M = 1 GB, b = 100 MB/s, d = 50 MB/s (ρ = 0.5), L = 0.3 s: the limit is 30 MB.
    # Rounds send 1000, 500, 250, 125, 62.5, 31.25 MB; 15.625 MB is left: it fits, downtime 0.15625 s.
    params = uncapped(ram_bytes=1e9, dirty_rate_bytes_per_s=50e6)
    plan = precopy_plan(params, 100e6)
    assert [r.bytes for r in plan.rounds] == pytest.approx([1000e6, 500e6, 250e6, 125e6, 62.5e6, 31.25e6])
    assert plan.stop_copy_bytes == pytest.approx(15.625e6)
    assert plan.downtime_s == pytest.approx(0.15625)
    assert plan.total_bytes == pytest.approx(1984.375e6)
    assert plan.total_time_s == pytest.approx(19.84375)
    closed = precopy_closed_form(params, 100e6)
    assert closed.precopy_rounds == 6
    assert closed.total_time_s == pytest.approx(plan.total_time_s, rel=1e-12)


def test_the_writable_working_set_bounds_what_a_round_leaves():
    # W = 100 MB: round 0 leaves min(500, 100) = 100 MB, then 50, then 25 MB fits 30 MB.
    plan = precopy_plan(uncapped(ram_bytes=1e9, wws_bytes=100e6, dirty_rate_bytes_per_s=50e6), 100e6)
    assert [r.bytes for r in plan.rounds] == pytest.approx([1000e6, 100e6, 50e6])
    assert plan.downtime_s == pytest.approx(0.25)
    assert plan.total_bytes == pytest.approx(1175e6)


def test_a_guest_dirtying_faster_than_the_link_stops_at_the_round_limit():
    params = uncapped(ram_bytes=1e9, wws_bytes=100e6, dirty_rate_bytes_per_s=200e6, max_rounds=7)
    plan = precopy_plan(params, 100e6)
    assert plan.round_limit_hit and len(plan.rounds) == 7
    assert plan.downtime_s == pytest.approx(1.0) and plan.downtime_s > params.downtime_limit_s
    closed = precopy_closed_form(params, 100e6)
    assert closed.round_limit_hit and closed.precopy_rounds == 7
    assert closed.total_bytes == pytest.approx(plan.total_bytes)


def test_a_small_enough_working_set_converges_even_when_dirtying_fast():
    plan = precopy_plan(uncapped(ram_bytes=1e9, wws_bytes=20e6, dirty_rate_bytes_per_s=200e6), 100e6)
    assert len(plan.rounds) == 1 and plan.downtime_s == pytest.approx(0.2) and not plan.round_limit_hit


params_strategy = st.builds(
    lambda ram, wws_frac, rho, limit, rounds, bw: (
        uncapped(ram_bytes=ram, wws_bytes=ram * wws_frac, dirty_rate_bytes_per_s=rho * bw, downtime_limit_s=limit,
                 max_rounds=rounds), bw),
    st.floats(1e6, 1e11), st.floats(0.0, 1.0), st.floats(0.0, 3.0), st.floats(0.0, 2.0), st.integers(1, 40),
    st.floats(1e6, 1e10))


@settings(max_examples=300, deadline=None)
@given(params_strategy)
def test_iteration_and_closed_form_agree(case):
    params, bw = case
    plan = precopy_plan(params, bw)
    # Keep clear of the convergence boundary, where rounding may tip one comparison either way.
    limit = params.downtime_limit_s
    assume(all(abs(r.bytes / bw - limit) > 1e-9 * max(limit, 1e-12) for r in plan.rounds[1:]))
    assume(abs(plan.downtime_s - limit) > 1e-9 * max(limit, 1e-12))
    closed = precopy_closed_form(params, bw)
    assert closed.precopy_rounds == len(plan.rounds)
    assert closed.round_limit_hit == plan.round_limit_hit
    assert closed.downtime_s == pytest.approx(plan.downtime_s, rel=1e-9, abs=1e-12)
    assert closed.total_bytes == pytest.approx(plan.total_bytes, rel=1e-9)
    assert closed.total_time_s == pytest.approx(plan.total_time_s, rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(params_strategy)
def test_downtime_stays_within_the_limit_unless_the_round_limit_is_hit(case):
    params, bw = case
    plan = precopy_plan(params, bw)
    if not plan.round_limit_hit:
        assert plan.downtime_s <= params.downtime_limit_s
    else:
        assert len(plan.rounds) == params.max_rounds and plan.downtime_s > params.downtime_limit_s
    assert plan.total_bytes >= params.ram_bytes
    assert plan.total_time_s == pytest.approx(plan.total_bytes / plan.rate_bytes_per_s, rel=1e-9)
    assert len(plan.rounds) <= params.max_rounds


@settings(max_examples=100, deadline=None)
@given(st.floats(1e6, 1e11), st.floats(1e6, 1e10))
def test_zero_dirty_rate_is_one_round_for_any_size(ram, bw):
    plan = precopy_plan(uncapped(ram_bytes=ram), bw)
    assert len(plan.rounds) == 1 and plan.total_time_s == pytest.approx(ram / bw, rel=1e-12)


def test_postcopy_stops_only_for_the_state_and_the_minimal_set():
    params = uncapped(ram_bytes=GIB, dirty_rate_bytes_per_s=1e9)  # the dirty rate does not matter
    plan = postcopy_plan(params, 125e6, state_bytes=MIB, minimal_set_bytes=4 * MIB)
    assert plan.downtime_s == pytest.approx(5 * MIB / 125e6)
    assert plan.total_time_s == pytest.approx((GIB + MIB) / 125e6)
    assert plan.degraded_s == pytest.approx((GIB - 4 * MIB) / 125e6)
    bare = postcopy_plan(params, 125e6)
    assert bare.downtime_s == 0 and bare.total_time_s == pytest.approx(GIB / 125e6)


def test_cloudsim_uses_half_the_bandwidth():
    assert cloudsim_migration_time(GIB, 125e6) == pytest.approx(2 * precopy_plan(uncapped(ram_bytes=GIB), 125e6).total_time_s)
    assert cloudsim_migration_time(0, 125e6) == 0


def test_bad_parameters_say_what_would_be_valid():
    with pytest.raises(ValueError, match=r"wws_bytes must lie within \[0, ram_bytes"):
        MigrationParams(ram_bytes=GIB, wws_bytes=2 * GIB)
    with pytest.raises(ValueError, match="max_rounds must be a whole number >= 1"):
        MigrationParams(ram_bytes=GIB, max_rounds=0)
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        precopy_plan(MigrationParams(ram_bytes=GIB), 0)


# --- validation against the calibration file --------------------------------------------------------------------

QEMU_EXAMPLE_THROUGHPUT = 866.83e6 / 8   # §7.4: "throughput 866.83 Mbps", bytes/s
QEMU_EXAMPLE_PAGES_PER_S = 39_044        # §7.4: "dirty-page rate 39,044 pages/s"
QEMU_EXAMPLE_REMAINING = 376_892 * 1024  # §7.4: "remaining RAM 376,892 KiB": the working set is at least this


def test_qemu_worked_example_never_converges_under_the_default_limit():
    params = MigrationParams(ram_bytes=8 * GIB, wws_bytes=QEMU_EXAMPLE_REMAINING,
                             bandwidth_cap_bytes_per_s=None).with_dirty_pages_per_s(QEMU_EXAMPLE_PAGES_PER_S)
    assert params.downtime_limit_s == DEFAULT_DOWNTIME_LIMIT_S == 0.3
    plan = precopy_plan(params, QEMU_EXAMPLE_THROUGHPUT)
    assert plan.round_limit_hit and plan.downtime_s > 0.3  # "with the default 300 ms limit the pre-copy never converges"


def test_qemu_worked_example_expected_downtime():
    # QEMU's estimate is the time to send what one second of running dirties: the model's ratio ρ = d / b,
    # with the dirty rate counted in 4 KiB pages (the page size the model assumes).
    params = MigrationParams(ram_bytes=8 * GIB, bandwidth_cap_bytes_per_s=None).with_dirty_pages_per_s(
        QEMU_EXAMPLE_PAGES_PER_S)
    seconds_per_second = params.dirty_rate_bytes_per_s / params.rate_bytes_per_s(QEMU_EXAMPLE_THROUGHPUT)
    assert seconds_per_second * 1.0 == pytest.approx(1.475, rel=1e-3)  # "expected downtime: 1475 milliseconds"


def test_cloudsim_code_comment_16_seconds_for_1024_mb_at_1_gbit():
    # PowerDatacenter: vm.getRam() / (bw / (2 * 8000)), RAM 1024 MB, BW 1,000,000 kbit/s: 1024 / 62.5 MB/s.
    assert cloudsim_migration_time(1024e6, 1e9 / 8) == pytest.approx(16.4, abs=0.1)  # §7.6: "T = 16.4 s"


OPNFV_LIMIT_S = 0.010  # §7.2: downtime limit set to 10 ms


def test_opnfv_idle_guest_total_time_lies_between_sending_1_and_8_gib_at_line_rate():
    one, eight = (precopy_plan(uncapped(ram_bytes=n * GIB, downtime_limit_s=OPNFV_LIMIT_S), TEN_GBE).total_time_s
                  for n in (1, 8))
    assert one < 2.070 < eight  # §7.2: idle guest, 2,070 ms before the optimizations


@pytest.mark.xfail(strict=True, reason="an idle guest's zero pages do not cross the wire; the model sends every page "
                   "(type2-startup-migration.md §7.2: 401 ms after the optimizations)")
def test_opnfv_optimized_idle_guest_sends_at_least_its_ram():
    assert precopy_plan(uncapped(ram_bytes=GIB, downtime_limit_s=OPNFV_LIMIT_S), TEN_GBE).total_time_s <= 0.401


def test_opnfv_optimized_downtimes_are_within_the_limit_as_the_model_says():
    for measured in (0.009, 0.005):  # §7.2: idle and DPDK guests after the optimizations
        assert measured <= OPNFV_LIMIT_S
    for rate in (0.0, 0.1, 0.5, 0.9):
        plan = precopy_plan(uncapped(ram_bytes=GIB, dirty_rate_bytes_per_s=rate * TEN_GBE,
                                     downtime_limit_s=OPNFV_LIMIT_S, max_rounds=1000), TEN_GBE)
        assert not plan.round_limit_hit and plan.downtime_s <= OPNFV_LIMIT_S


@pytest.mark.xfail(strict=True, reason="the stop-and-copy's fixed work (dirty-log cleanup, CPU state sync) is not "
                   "modelled: a converging pre-copy never exceeds its limit (type2-startup-migration.md §7.2: "
                   "29 and 26 ms against a 10 ms limit)")
def test_opnfv_downtimes_before_the_optimizations():
    downtimes = []
    for rate in (0.0, 0.1, 0.5, 0.9):
        plan = precopy_plan(uncapped(ram_bytes=GIB, dirty_rate_bytes_per_s=rate * TEN_GBE,
                                     downtime_limit_s=OPNFV_LIMIT_S, max_rounds=1000), TEN_GBE)
        downtimes.append(plan.downtime_s)
    assert any(math.isclose(d, 0.026, rel_tol=0.2) for d in downtimes)
