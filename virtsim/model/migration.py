"""Live migration of a running VM from host A to host B, as arithmetic: how long, how many bytes, what downtime.

Three models, all on one constant transfer rate ``b`` (the link's bandwidth,
capped by the hypervisor's migration bandwidth cap):

* **pre-copy** (:func:`precopy_plan`), as QEMU/KVM and Xen do it (Clark et al.,
  ``shared/calibration/type2-startup-migration.md`` §7.1): iterative rounds while
  the VM keeps running on A, then a stop-and-copy (the downtime), then the VM
  resumes on B;
* **post-copy** (:func:`postcopy_plan`): stop first, move the CPU state and a
  minimal set of pages, resume on B and pull the rest on demand;
* **CloudSim's** formula (:func:`cloudsim_migration_time`): RAM over half the
  bandwidth, no dirty pages, no downtime (§7.6).

The pre-copy model, precisely. Let M be the RAM, W ≤ M the writable working
set (the pages the guest keeps writing), d the dirty rate (bytes the guest
dirties per second while it runs), L the downtime limit and N the round limit.

1. Round 0 sends all M bytes and lasts M / b.
2. While round i lasts t_i, the guest dirties d·t_i bytes, but never more than
   its working set: what remains to send after round i is
   r_i = min(d·t_i, W).
3. If r_i / b ≤ L, the pre-copy has converged (QEMU's rule: what remains fits
   the downtime limit at the current rate, §7.4 "expected_downtime =
   remaining ram / throughput"): the VM stops, r_i crosses in the
   stop-and-copy, and the downtime is r_i / b. Otherwise, if i + 1 = N rounds
   have run, the round limit forces the stop-and-copy anyway and the downtime
   r_i / b exceeds L. Otherwise round i + 1 sends r_i and lasts r_i / b.

For a constant d the rounds form a geometric series of ratio ρ = d / b
(:func:`precopy_closed_form`): x_0 = M, x_1 = min(ρM, W), and x_i = x_1 ρ^(i−1)
for i ≥ 1 while ρ < 1; for ρ ≥ 1 every round after the first sends W and the
pre-copy converges only if W / b ≤ L. With n pre-copy rounds the stop-and-copy
sends x_n, and the total time is (M + x_1 (1 − ρ^n) / (1 − ρ)) / b.

What the model leaves out: zero pages and compression (QEMU skips pages of
zeros, so an idle guest sends less than M, §7.2); the fixed work of the
stop-and-copy (device state, the dirty-log sync: the reason a measured downtime
can exceed its limit, §7.2); auto-converge throttling (§7.4); contention of the
migration flow with other traffic (the flow engine will carry that). QEMU also
stop-and-copies a VM whose whole RAM already fits the budget without a first
round; here round 0 always runs (the totals are the same, the downtime is 0
instead of M / b).

Plain Python, like the rest of :mod:`virtsim.model`: the simulation wiring
(migrations as flows on the fair-sharing engine) comes later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = [
    "CLOUDSIM_BANDWIDTH_SHARE", "DEFAULT_BANDWIDTH_CAP_BYTES_PER_S", "DEFAULT_DOWNTIME_LIMIT_S",
    "DEFAULT_MAX_ROUNDS", "DEFAULT_PAGE_SIZE_BYTES", "MigrationParams", "PostcopyPlan", "PrecopyPlan",
    "PrecopyClosedForm", "PrecopyRound", "cloudsim_migration_time", "postcopy_plan", "precopy_closed_form", "precopy_plan",
]

_MIB = 2**20

DEFAULT_DOWNTIME_LIMIT_S = 0.300
"""QEMU's ``DEFAULT_MIGRATE_SET_DOWNTIME``, 300 ms (``type2-startup-migration.md`` §7.4, row "downtime-limit")."""

DEFAULT_BANDWIDTH_CAP_BYTES_PER_S = 128 * _MIB
"""QEMU's default ``max-bandwidth``, ``MAX_THROTTLE`` = 128 MiB/s in newer trees (§7.4, row "MAX_THROTTLE";
older trees: 32 MiB/s, the version of the change is not pinned)."""

DEFAULT_MAX_ROUNDS = 30
"""An estimate, not a calibration row: QEMU sets no round limit (it iterates until the rest fits the downtime
limit, or until auto-converge throttling, §7.4, makes it fit). 30 rounds bound the model's work for a guest that
never converges; any round limit only changes the outcome of such a guest."""

DEFAULT_PAGE_SIZE_BYTES = 4096
"""QEMU counts dirty pages in 4 KiB target pages: the §7.4 worked example's "expected downtime: 1475
milliseconds" is 39,044 pages/s × 4,096 bytes over 866.83 Mbit/s (derived; the guest's memory was backed by
16 MiB huge pages, so the count is not in host pages)."""

CLOUDSIM_BANDWIDTH_SHARE = 0.5
"""CloudSim gives a migration half the host's bandwidth ("the other half of BW is for VM communication", §7.6)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MigrationParams:
    """What one VM's live migration depends on, in bytes, seconds and bytes per second."""

    ram_bytes: float
    """The guest's RAM: all of it crosses in the first pre-copy round (zero pages are not skipped)."""
    wws_bytes: float | None = None
    """The writable working set: at most this much is dirty again after a round. None: the whole RAM."""
    dirty_rate_bytes_per_s: float = 0.0
    """Bytes the running guest dirties per second (constant; 0: an idle guest, one round)."""
    bandwidth_cap_bytes_per_s: float | None = DEFAULT_BANDWIDTH_CAP_BYTES_PER_S
    """The hypervisor's cap on the migration's rate (QEMU ``max-bandwidth``, §7.4). None: uncapped."""
    downtime_limit_s: float = DEFAULT_DOWNTIME_LIMIT_S
    """Pre-copy stops once what remains crosses within this time (QEMU ``downtime-limit``, §7.4)."""
    max_rounds: int = DEFAULT_MAX_ROUNDS
    """Pre-copy rounds at most, round 0 included (an estimate, see :data:`DEFAULT_MAX_ROUNDS`)."""
    page_size_bytes: int = DEFAULT_PAGE_SIZE_BYTES
    """Size of the pages a dirty rate in pages per second counts (:meth:`with_dirty_pages_per_s`)."""

    def __post_init__(self):
        problems = []
        if not self.ram_bytes > 0:
            problems.append(f"ram_bytes must be > 0, got {self.ram_bytes!r}")
        if self.wws_bytes is not None and not 0 <= self.wws_bytes <= self.ram_bytes:
            problems.append(f"wws_bytes must lie within [0, ram_bytes = {self.ram_bytes!r}], got {self.wws_bytes!r}")
        if not self.dirty_rate_bytes_per_s >= 0:
            problems.append(f"dirty_rate_bytes_per_s must be >= 0, got {self.dirty_rate_bytes_per_s!r}")
        if self.bandwidth_cap_bytes_per_s is not None and not self.bandwidth_cap_bytes_per_s > 0:
            problems.append(f"bandwidth_cap_bytes_per_s must be > 0 or None (uncapped), "
                            f"got {self.bandwidth_cap_bytes_per_s!r}")
        if not self.downtime_limit_s >= 0:
            problems.append(f"downtime_limit_s must be >= 0, got {self.downtime_limit_s!r}")
        if not (isinstance(self.max_rounds, int) and self.max_rounds >= 1):
            problems.append(f"max_rounds must be a whole number >= 1, got {self.max_rounds!r}")
        if not (isinstance(self.page_size_bytes, int) and self.page_size_bytes >= 1):
            problems.append(f"page_size_bytes must be a whole number >= 1, got {self.page_size_bytes!r}")
        if problems:
            raise ValueError("migration parameters: " + "; ".join(problems))

    @property
    def working_set_bytes(self) -> float:
        """The writable working set, the whole RAM when none is given."""
        return self.ram_bytes if self.wws_bytes is None else self.wws_bytes

    def rate_bytes_per_s(self, bandwidth_bytes_per_s: float) -> float:
        """The migration's rate on a link of ``bandwidth_bytes_per_s``: the link, capped."""
        if not bandwidth_bytes_per_s > 0:
            raise ValueError(f"the migration's bandwidth must be > 0 bytes/s, got {bandwidth_bytes_per_s!r}")
        if self.bandwidth_cap_bytes_per_s is None:
            return float(bandwidth_bytes_per_s)
        return float(min(bandwidth_bytes_per_s, self.bandwidth_cap_bytes_per_s))

    def with_dirty_pages_per_s(self, pages_per_s: float) -> MigrationParams:
        """The same parameters with a dirty rate given in pages per second (QEMU's ``dirty-pages-rate``)."""
        return replace(self, dirty_rate_bytes_per_s=pages_per_s * self.page_size_bytes)


@dataclass(frozen=True, slots=True)
class PrecopyRound:
    """One pre-copy round: what it sent and how long it took, the VM running throughout."""

    bytes: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class PrecopyPlan:
    """The outcome of a pre-copy migration."""

    rounds: tuple[PrecopyRound, ...]
    """The iterative rounds, round 0 (all of RAM) first; the stop-and-copy is not one of them."""
    downtime_s: float
    """The stop-and-copy: the VM runs nowhere while the rest crosses."""
    stop_copy_bytes: float
    """Bytes sent during the stop-and-copy."""
    total_time_s: float
    """From the start of round 0 to the resume on B: the rounds plus the downtime."""
    total_bytes: float
    """Bytes sent, rounds and stop-and-copy (never less than the RAM)."""
    round_limit_hit: bool
    """The round limit forced the stop-and-copy before what remained fitted the downtime limit."""
    rate_bytes_per_s: float
    """The transfer rate used: the link's bandwidth, capped."""


def precopy_plan(params: MigrationParams, bandwidth_bytes_per_s: float) -> PrecopyPlan:
    """Pre-copy rounds on a link of ``bandwidth_bytes_per_s``, iterated round by round (module docstring)."""
    rate = params.rate_bytes_per_s(bandwidth_bytes_per_s)
    wws = params.working_set_bytes
    rounds: list[PrecopyRound] = []
    sending = float(params.ram_bytes)
    while True:
        duration = sending / rate
        rounds.append(PrecopyRound(sending, duration))
        remaining = min(params.dirty_rate_bytes_per_s * duration, wws)
        if remaining / rate <= params.downtime_limit_s:
            limit_hit = False
            break
        if len(rounds) >= params.max_rounds:
            limit_hit = True
            break
        sending = remaining
    downtime = remaining / rate
    return PrecopyPlan(rounds=tuple(rounds), downtime_s=downtime, stop_copy_bytes=remaining,
                       total_time_s=sum(r.duration_s for r in rounds) + downtime,
                       total_bytes=sum(r.bytes for r in rounds) + remaining,
                       round_limit_hit=limit_hit, rate_bytes_per_s=rate)


@dataclass(frozen=True, slots=True)
class PrecopyClosedForm:
    """The pre-copy outcome from the geometric series, for a constant dirty rate."""

    precopy_rounds: int
    downtime_s: float
    total_time_s: float
    total_bytes: float
    round_limit_hit: bool


def precopy_closed_form(params: MigrationParams, bandwidth_bytes_per_s: float) -> PrecopyClosedForm:
    """The same outcome as :func:`precopy_plan`, from the geometric series of ratio ρ = dirty rate / rate.

    x_0 = M, x_1 = min(ρM, W), x_i = x_1 ρ^(i−1) (ρ < 1) or W (ρ ≥ 1) for i ≥ 1.
    The number of rounds n is the least n ≥ 1 with x_n / b ≤ L, at most N;
    the downtime is x_n / b, the total bytes M + Σ_{i=1..n} x_i, the total time
    those bytes over b.
    """
    rate = params.rate_bytes_per_s(bandwidth_bytes_per_s)
    ram, wws, limit_bytes = float(params.ram_bytes), params.working_set_bytes, params.downtime_limit_s * rate
    rho = params.dirty_rate_bytes_per_s / rate
    first = min(rho * ram, wws)  # x_1: dirtied during round 0

    def x(i: int) -> float:
        if rho >= 1:
            return first if i == 1 else wws
        return first * rho ** (i - 1)

    if first <= limit_bytes:
        n = 1
    elif rho >= 1 or limit_bytes <= 0:  # every round leaves more than the limit: only the round limit stops it
        n = params.max_rounds
    else:  # 0 < ρ < 1: the least n with x_1·ρ^(n−1) ≤ limit, from the logarithm, then settled exactly
        n = min(1 + math.ceil(math.log(limit_bytes / first) / math.log(rho)), params.max_rounds)
        while n > 1 and x(n - 1) <= limit_bytes:
            n -= 1
        while n < params.max_rounds and x(n) > limit_bytes:
            n += 1
    last = x(n)
    if rho >= 1:
        sent = ram + first + (n - 1) * wws
    else:
        sent = ram + first * (1 - rho**n) / (1 - rho)
    return PrecopyClosedForm(precopy_rounds=n, downtime_s=last / rate, total_time_s=sent / rate,
                             total_bytes=sent, round_limit_hit=last > limit_bytes)


@dataclass(frozen=True, slots=True)
class PostcopyPlan:
    """The outcome of a post-copy migration."""

    downtime_s: float
    """The VM is stopped while its CPU and device state and the minimal set of pages cross."""
    degraded_s: float
    """After the resume on B, the time the rest of RAM takes to arrive (page faults are served from A)."""
    total_time_s: float
    """Downtime plus degraded time: every byte of RAM and state over the rate."""
    total_bytes: float
    """State plus RAM: each page crosses exactly once."""
    rate_bytes_per_s: float


def postcopy_plan(params: MigrationParams, bandwidth_bytes_per_s: float, *, state_bytes: float = 0.0,
                  minimal_set_bytes: float = 0.0) -> PostcopyPlan:
    """Post-copy on a link of ``bandwidth_bytes_per_s``: stop, send the state and a minimal set, resume, pull the rest.

    Assumes a pure post-copy (no pre-copy round before the switch); each page
    crosses exactly once, on demand or by background push, at the same capped
    rate; the guest's dirty rate does not matter (pages are written on B). The
    latency of a page fault and the guest's slowdown while pages are missing
    are not modelled: ``degraded_s`` only says how long that lasts.
    ``state_bytes`` (CPU and device state) and ``minimal_set_bytes`` have no
    calibration row; 0 is an estimate that leaves only the RAM, so the
    downtime is 0 and the total time is RAM / rate.
    """
    if not (state_bytes >= 0 and 0 <= minimal_set_bytes <= params.ram_bytes):
        raise ValueError(f"post-copy: state_bytes must be >= 0 and minimal_set_bytes within [0, ram_bytes = "
                         f"{params.ram_bytes!r}], got {state_bytes!r} and {minimal_set_bytes!r}")
    rate = params.rate_bytes_per_s(bandwidth_bytes_per_s)
    downtime = (state_bytes + minimal_set_bytes) / rate
    degraded = (params.ram_bytes - minimal_set_bytes) / rate
    return PostcopyPlan(downtime_s=downtime, degraded_s=degraded, total_time_s=downtime + degraded,
                        total_bytes=state_bytes + params.ram_bytes, rate_bytes_per_s=rate)


def cloudsim_migration_time(ram_bytes: float, bandwidth_bytes_per_s: float) -> float:
    """CloudSim's migration delay, RAM / (bandwidth / 2), exactly (``type2-startup-migration.md`` §7.6).

    ``PowerDatacenter`` schedules ``VM_MIGRATE`` after ``vm.getRam() /
    (targetHost.getBw() / (2 * 8000))``: RAM in MB over half the host's
    bandwidth (in kbit/s, /8000 to MB/s). In bytes and bytes per second that
    is RAM / (bandwidth × 0.5). No dirty pages, no downtime: the VM migrates
    whole at the end of the delay.
    """
    if not (ram_bytes >= 0 and bandwidth_bytes_per_s > 0):
        raise ValueError(f"CloudSim migration time: ram_bytes must be >= 0 and bandwidth_bytes_per_s > 0, "
                         f"got {ram_bytes!r} and {bandwidth_bytes_per_s!r}")
    return ram_bytes / (bandwidth_bytes_per_s * CLOUDSIM_BANDWIDTH_SHARE)
