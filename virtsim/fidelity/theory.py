"""Queueing-theory checks of the service disciplines, as rows of the fidelity table.

The published rows calibrate the layers' costs; these check the mechanism that
serves requests at a consumer. A bare host with Poisson arrivals is a textbook
queue, so its answer is known in closed form:

* one FCFS worker with exponential service is M/M/1: mean response
  ``1 / (μ − λ)`` and, the response time being exponential, a 99th percentile
  of ``ln(100) / (μ − λ)``;
* four FCFS workers on a host of eight cores are M/M/4 (Erlang C), whatever
  the cores left over;
* constant service is M/D/1: FCFS by Pollaczek–Khinchine,
  ``S + ρS / (2(1 − ρ))``, processor sharing ``S / (1 − ρ)``
  (PS is insensitive to the service distribution; FCFS is not);
* one FCFS worker under many closed-loop clients saturates at ``1 / S`` on a
  host of eight cores, where processor sharing would use them all;
* a layer that coalesces notifications (``coalesce``) charges, under Poisson
  arrivals at rate λ, ``c · (b + (1 − b) · exp(−λτ))`` per operation
  (:func:`virtsim.model.costs.coalesced_cost_s`): an arrival is batched when
  the previous one lies within the window τ, with probability ``1 − exp(−λτ)``.

Each row is one run with a fixed seed, long enough (300,000 or more requests
at ρ = 0.7) that the sampling error is a small part of the tolerance.
"""

from __future__ import annotations

import math

from collections.abc import Callable

from ..analysis.queueing import mg1_fcfs_mean_response_s, mg1_ps_mean_response_s, mmc_mean_response_s
from ..model.costs import coalesced_cost_s
from .published import Row

SERVICE_S = 1e-3
"""Mean service time of every case: 1 ms of CPU on a core of speed 1."""
LOAD = 0.7
"""Utilization of the servers in the open cases."""
DURATION_S = 500.0
WARMUP_S = 20.0
SOURCE = "queueing theory"


def _experiment(rate_per_s: float, service: dict | None, size: dict, *, cores: int = 1,
                clients: int | None = None, think_s: float = 0.0) -> dict:
    workload: dict = {"name": "server", "target": "h", "demand": {"cpu": size}}
    if clients is None:
        workload |= {"type": "open", "arrivals": {"type": "poisson", "rate": f"{rate_per_s:g}/s"}}
    else:
        workload |= {"type": "closed", "clients": clients,
                     "think_time": {"type": "exponential", "mean": f"{think_s * 1e3:g} ms"}}
    if service is not None:
        workload["service"] = service
    return {"name": "fidelity-queueing", "seed": 7, "duration": f"{DURATION_S:g} s", "warmup": f"{WARMUP_S:g} s",
            "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": cores, "core_speed": 1.0, "memory": "16 GiB"}}],
            "workloads": [workload]}


EXPONENTIAL = {"type": "exponential", "mean": f"{SERVICE_S * 1e3:g} ms"}
CONSTANT = f"{SERVICE_S * 1e3:g} ms"
FCFS_1 = {"discipline": "fcfs", "workers": 1}
FCFS_4 = {"discipline": "fcfs", "workers": 4}
EVENT_LOOP_CLIENTS = 64
EVENT_LOOP_THINK_S = 10e-3

_MU = 1.0 / SERVICE_S
_LAMBDA = LOAD * _MU

CASES: dict[str, tuple[Row, dict, str | Callable]] = {}
"""Row id → (row, experiment, what the row reads: a summary column, or a function of the run's results, in
seconds or per second)."""


def _case(row_id: str, benchmark: str, stack: str, metric: str, unit: str, value: float, formula: str,
          exp: dict, column: str | Callable, tolerance: float = 0.05) -> None:
    row = Row(row_id, benchmark, stack, metric, unit, value, f"{SOURCE}: {formula}", tolerance)
    CASES[row_id] = (row, exp, column)


_case("queue-mm1-fcfs-mean", "M/M/1, one FCFS worker, rho 0.7", "native", "mean response time", "ms",
      1e3 / (_MU - _LAMBDA), "M/M/1 mean response 1 / (mu - lambda)",
      _experiment(_LAMBDA, FCFS_1, EXPONENTIAL), "response_time_mean_s")
_case("queue-mm1-fcfs-p99", "M/M/1, one FCFS worker, rho 0.7", "native", "p99 response time", "ms",
      1e3 * math.log(100.0) / (_MU - _LAMBDA), "M/M/1-FCFS response time is exponential: p99 = ln(100) / (mu - lambda)",
      _experiment(_LAMBDA, FCFS_1, EXPONENTIAL), "response_time_p99_s")
_case("queue-mm4-fcfs-mean", "M/M/4, four FCFS workers on 8 cores, rho 0.7", "native", "mean response time", "ms",
      1e3 * mmc_mean_response_s(4 * _LAMBDA, SERVICE_S, 4), "M/M/c mean response 1/mu + C(c, a) / (c mu - lambda) "
      "(Erlang C)", _experiment(4 * _LAMBDA, FCFS_4, EXPONENTIAL, cores=8), "response_time_mean_s")
_case("queue-md1-fcfs-mean", "M/D/1, one FCFS worker, rho 0.7", "native", "mean response time", "ms",
      1e3 * mg1_fcfs_mean_response_s(_LAMBDA, SERVICE_S, 0.0),
      "Pollaczek-Khinchine with scv 0: S + rho S / (2 (1 - rho))",
      _experiment(_LAMBDA, FCFS_1, CONSTANT), "response_time_mean_s")
_case("queue-md1-ps-mean", "M/D/1, processor sharing, rho 0.7", "native", "mean response time", "ms",
      1e3 * mg1_ps_mean_response_s(_LAMBDA, SERVICE_S), "M/G/1-PS mean response S / (1 - rho), insensitive to "
      "the service distribution", _experiment(_LAMBDA, None, CONSTANT), "response_time_mean_s")
_case("queue-event-loop-saturation", f"event loop: one FCFS worker, {EVENT_LOOP_CLIENTS} closed clients, 8 cores",
      "native", "throughput", "requests/s", 1.0 / SERVICE_S,
      "a saturated single server completes 1 / S requests per second (the cores beyond one stay idle)",
      _experiment(0.0, FCFS_1, EXPONENTIAL, cores=8, clients=EVENT_LOOP_CLIENTS, think_s=EVENT_LOOP_THINK_S),
      "throughput_per_s", tolerance=0.02)

COALESCE_HOST_US = 18.0
"""The coalescing cases' layer CPU per operation alone: kvm.yaml's disk.host_cpu_us."""
COALESCE_WINDOW_US = 20.0
COALESCE_FRACTION = 0.25


def _coalescing_experiment(rate_per_s: float, duration_s: float) -> dict:
    """KVM's disk path with a coalescing window and no IOPS ceiling (so that the thread is charged its CPU per
    operation and nothing else), under Poisson 4 KiB reads."""
    hypervisor = {"profile": "kvm", "disk": {
        "host_cpu_us": COALESCE_HOST_US, "iops_limit": 1e12, "write_iops_limit": 1e12,
        "coalesce": {"window_us": COALESCE_WINDOW_US, "batched_fraction": COALESCE_FRACTION}}}
    return {"name": "fidelity-coalescing", "seed": 7, "duration": f"{duration_s:g} s", "warmup": "0 s",
            "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": 8, "core_speed": 1.0, "memory": "16 GiB"},
                       "hypervisor": hypervisor, "vms": [{"name": "vm", "vcpus": 4, "memory": "4 GiB"}]}],
            "workloads": [{"name": "reads", "target": "h/vm", "type": "open",
                           "arrivals": {"type": "poisson", "rate": f"{rate_per_s:g}/s"},
                           "demand": {"cpu": "1 ns", "disk": {"ops": 1, "bytes": "4 KiB"}}}]}


def _vmm_cpu_per_request_s(results) -> float:
    """CPU of the VM's I/O thread per request that arrived (the few still in flight at the end have run their
    CPU phase or not: a bias below 10⁻⁴ here)."""
    return float(results.consumers.set_index("consumer")["cpu_time_s"]["h/vm.vmm"]) / len(results.jobs)


for _rate, _duration in ((20_000.0, 5.0), (60_000.0, 2.0)):
    _case(f"coalesce-poisson-{_rate / 1e3:g}k", f"coalescing disk path, Poisson {_rate / 1e3:g}k/s, window "
          f"{COALESCE_WINDOW_US:g} us, batched fraction {COALESCE_FRACTION:g}", "kvm (coalescing)",
          "layer CPU per operation", "us",
          coalesced_cost_s(COALESCE_HOST_US, COALESCE_FRACTION, COALESCE_WINDOW_US * 1e-6, _rate),
          "batched with probability 1 - exp(-lambda tau): c (b + (1 - b) exp(-lambda tau))",
          _coalescing_experiment(_rate, _duration), _vmm_cpu_per_request_s, tolerance=0.02)

ROWS: tuple[Row, ...] = tuple(row for row, _, _ in CASES.values())

_PER_SUMMARY_UNIT = {"ms": 1e3, "requests/s": 1.0, "us": 1e6}
"""A row's unit per unit of the summary column it reads (seconds, or requests per second)."""


def simulate(runner, row_id: str, exp: dict | None = None) -> float:
    """The simulated value of a theory row, in its unit; ``exp`` instead of the row's own experiment, if given
    (the same case served another way)."""
    row, own, column = CASES[row_id]
    exp = own if exp is None else exp
    value = column(runner.results(exp)) if callable(column) else runner.summary(exp)[column]
    return float(value) * _PER_SUMMARY_UNIT[row.unit]


PLAN = {row_id: (lambda runner, row_id=row_id: simulate(runner, row_id)) for row_id in CASES}
"""Row id → ``callable(runner) -> simulated value``, like :data:`virtsim.fidelity.benchmarks.PLAN`."""
