"""Workload types are registered by type: a new one is its own module (here, this test) and nothing else.

A type has a config side (``virtsim.config.workload_registry``: its resolved
spec class, its keys and their checks) and a run-time side
(``virtsim.workloads.registry``: how its source is built, the columns it adds
to the workloads table). Below, a periodic real-time task (one job every
period, its deadline the next release) is registered from this module alone
and run through the whole pipeline: its spec read back from a dump, the
simulation, the tables and the manifest.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from pydantic import Field, ValidationError

import virtsim
from virtsim.config import dump_resolved, workload_registry
from virtsim.config.workload_kind import WorkloadKind
from virtsim.config.workload_spec import WorkloadSpec
from virtsim.workloads import registry
from virtsim.workloads.distributions import make_sampler
from virtsim.workloads.starter import JobStarter
from virtsim.workloads.wiring import WorkloadType

# --- the new type, config side ------------------------------------------------------------------


class PeriodicWorkload(WorkloadSpec):
    """``count`` jobs released every ``period_s`` (the first at ``period_s``); each should end by the next."""

    type: Literal["periodic"] = "periodic"
    period_s: float = Field(gt=0)
    count: int = Field(ge=1)


class Periodic(WorkloadKind):
    spec = PeriodicWorkload
    summary = "'periodic' (a job every period)"
    noun = "a periodic workload"


# --- the new type, run-time side ----------------------------------------------------------------


class PeriodicSource:
    def __init__(self, env, log, index, consumer, code, period_s, count, cpu, threads, **options):
        self.env, self.consumer, self.code = env, consumer, code
        self.period_s, self.count, self.cpu = period_s, count, cpu
        self.starter = JobStarter(env, log, index, threads, **options)

    def start(self) -> None:
        for k in range(1, self.count + 1):
            self.env.timeout(k * self.period_s).callbacks.append(self._release)

    def _release(self, _event) -> None:
        self.starter.start(self.consumer, self.code, self.cpu(), self.env.now)


def build(w, index, wiring, threads, options):
    consumer, code = wiring.first_target(w)
    return PeriodicSource(wiring.env, wiring.log, index, consumer, code, w.period_s, w.count,
                          make_sampler(w.demand.cpu, wiring.stream_of(w, "cpu")), threads, **options)


def columns(w, jobs: dict) -> dict:
    """Deadline misses: released jobs not done within their period."""
    late = jobs["counted"] & ~(jobs["response_time_s"] <= w.period_s)
    return {"deadline_misses": int(late.sum())}


@pytest.fixture
def periodic():
    workload_registry.register(Periodic())
    registry.register(WorkloadType("periodic", build, columns))
    yield
    del workload_registry.WORKLOAD_KINDS["periodic"], registry.WORKLOAD_TYPES["periodic"]


def _spec(*neighbours: dict, cpu_s: float = 0.4):
    """One core; the periodic task and, optionally, batch jobs beside it (all read back from a dump)."""
    base = virtsim.load_experiment({
        "name": "rt", "duration": "20 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 1, "memory": "4 GiB"}}],
        "workloads": list(neighbours)})
    task = {"name": "control", "target": "h", "type": "periodic", "period_s": 1.0, "count": 5,
            "demand": {"cpu": {"type": "constant", "value_s": cpu_s}}}
    return virtsim.ExperimentSpec.model_validate({**dump_resolved(base), "workloads": [
        task, *dump_resolved(base)["workloads"]]})


def test_a_type_registered_in_one_module_runs_through_spec_simulation_and_tables(periodic):
    spec = _spec()
    assert isinstance(spec.workloads[0], PeriodicWorkload)
    results = virtsim.run_spec(spec)
    jobs = results.jobs
    assert jobs["arrival_s"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert jobs["response_time_s"].to_numpy() == pytest.approx([0.4] * 5, rel=1e-12)
    row = results.workloads.set_index("workload").loc["control"]
    assert row["jobs_completed"] == 5 and row["deadline_misses"] == 0
    # Its manifest holds its own fields, in the dump every workload has.
    dumped = results.manifest["config"]["workloads"][0]
    assert dumped["type"] == "periodic" and dumped["period_s"] == 1.0 and dumped["count"] == 5
    assert dumped["arrivals"] is None and dumped["clients"] is None
    assert virtsim.ExperimentSpec.model_validate(results.manifest["config"]).workloads[0] == spec.workloads[0]


def test_its_own_columns_see_its_jobs_beside_built_in_types(periodic):
    """Two CPU-bound batch jobs on the one core: each release gets a third of it, 1.2 s for 0.4 s of work."""
    hog = {"name": "hog", "target": "h", "type": "batch", "jobs": 2, "demand": {"cpu": "100 s"}}
    results = virtsim.run_spec(_spec(hog))
    rows = results.workloads.set_index("workload")
    assert rows.loc["control", "deadline_misses"] == 5
    assert np.isnan(rows.loc["hog", "deadline_misses"])  # a column of the periodic type only
    assert rows.loc["hog", "makespan_s"] != rows.loc["hog", "makespan_s"]  # batch's own column: unfinished


def test_an_unregistered_type_is_named_with_the_known_ones():
    dumped = dump_resolved(virtsim.load_experiment({
        "name": "x", "duration": "1 s", "hosts": [{"name": "h", "hardware": {"cores": 1, "memory": "1 GiB"}}]}))
    dumped["workloads"] = [{"name": "w", "target": "h", "type": "periodic", "period_s": 1.0, "count": 1}]
    with pytest.raises(ValidationError, match=r"no workload type 'periodic' is registered; known: open, closed, batch"):
        virtsim.ExperimentSpec.model_validate(dumped)
    with pytest.raises(ValueError, match=r"no workload type 'periodic' is registered"):
        registry.workload_type("periodic")


def test_the_built_in_types_are_registered_on_both_sides():
    assert list(workload_registry.WORKLOAD_KINDS) == list(registry.WORKLOAD_TYPES) == ["open", "closed", "batch", "service"]
    for name, kind in workload_registry.WORKLOAD_KINDS.items():
        assert kind.name == name and kind.spec.model_fields["type"].default == name
