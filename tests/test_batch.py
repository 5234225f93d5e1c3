"""Batch workloads: a set of jobs submitted at once (at each given time), run to completion, makespan reported."""

from __future__ import annotations

import pytest

import virtsim
from virtsim.config import ConfigError


def batch(**workload) -> dict:
    return {"name": "b", "duration": "100 s", "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": 4, "memory": "8 GiB"}}],
            "workloads": [{"name": "render", "target": "h", "type": "batch", **workload}]}


def test_batches_of_parallel_jobs_share_the_host_and_report_their_makespan():
    """Eight jobs of 2 s on two threads each, on four cores: 16 core-seconds, done at 4 s; again at 50 s."""
    results = virtsim.run_experiment(batch(jobs=8, at=["0 s", "50 s"], demand={"cpu": "2 s", "threads": 2}))
    jobs = results.jobs
    assert len(jobs) == 16
    assert jobs["end_s"].to_numpy() == pytest.approx([4.0] * 8 + [54.0] * 8, rel=1e-12)
    assert results.workloads.loc[0, "makespan_s"] == pytest.approx(54.0, rel=1e-12)


def test_an_unfinished_batch_has_no_makespan():
    results = virtsim.run_experiment(batch(jobs=2, demand={"cpu": "1000 s"}))
    assert results.workloads.loc[0, "makespan_s"] != results.workloads.loc[0, "makespan_s"]  # NaN


def test_batch_keys_are_checked():
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(batch(clients=3, demand={"cpu": "1 s"}))
    text = str(err.value)
    assert "workloads[0].jobs: required key is missing for a batch workload" in text
    assert "workloads[0].clients: not for batch workloads" in text
    spec = batch(jobs=1, demand={"cpu": "1 s"})
    spec["workloads"].append({"name": "w", "target": "h", "type": "closed", "clients": 1, "jobs": 3,
                              "demand": {"cpu": "1 s"}})
    with pytest.raises(ConfigError, match=r"workloads\[1\]\.jobs: only for batch workloads \(this one is closed\)"):
        virtsim.load_experiment(spec)
