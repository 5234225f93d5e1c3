"""Built-in workload sources: trace replay across chunk boundaries, closed loops."""

import numpy as np
import pytest

import virtsim
from virtsim.workloads.trace_replay import TraceReplay


def _host(cores=2):
    return {"name": "h", "hardware": {"cores": cores, "core_speed": 1.0, "memory": "4 GiB"},
            "vms": [{"name": "a", "vcpus": 1, "memory": "1 GiB"}, {"name": "b", "vcpus": 1, "memory": "1 GiB"}]}


def _write_jobs(path, rows):
    path.write_text("time_s,target,cpu_s\n" + "".join(f"{t!r},{tg},{w!r}\n" for t, tg, w in rows))


@pytest.mark.parametrize("chunk", [1, 3, 7, 65536])
def test_trace_replay_is_exact_across_chunks(tmp_path, monkeypatch, chunk):
    """Every row arrives at its time in its target, however the trace is chunked."""
    monkeypatch.setattr(TraceReplay, "CHUNK", chunk)
    rng = np.random.default_rng(5)
    times = 2.0 * np.arange(20) + rng.uniform(0.0, 0.5, 20)  # each job runs alone
    rows = [(float(t), "h/a" if i % 2 else "h/b", 0.5) for i, t in enumerate(times)]
    _write_jobs(tmp_path / "jobs.csv", rows)
    exp = {"name": "replay", "duration": "1000 s", "hosts": [_host()],
           "workloads": [{"name": "w", "type": "open", "arrivals": {"type": "file", "path": "jobs.csv"}}]}
    res = virtsim.run_spec(virtsim.load_experiment(exp, base_dir=tmp_path))
    jobs = res.jobs
    assert len(jobs) == 20
    np.testing.assert_array_equal(jobs["arrival_s"].to_numpy(), times)
    assert list(jobs["target"].astype(str)) == [r[1] for r in rows]
    np.testing.assert_allclose(jobs["response_time_s"].to_numpy(), 0.5, rtol=1e-12)


def test_same_time_arrivals_share_from_the_start(tmp_path):
    """Two 1 s jobs arriving together in a 1-vCPU VM both end at 2 s."""
    _write_jobs(tmp_path / "jobs.csv", [(1.0, "h/a", 1.0), (1.0, "h/a", 1.0)])
    exp = {"name": "pair", "duration": "10 s", "hosts": [_host()],
           "workloads": [{"name": "w", "type": "open", "arrivals": {"type": "file", "path": "jobs.csv"}}]}
    res = virtsim.run_spec(virtsim.load_experiment(exp, base_dir=tmp_path))
    assert res.jobs["end_s"].tolist() == [3.0, 3.0]


def test_closed_loop_keeps_clients_busy():
    """Four clients with no think time and 2 s jobs on a 2-core host: each job takes 4 s."""
    exp = {"name": "closed", "duration": "40 s", "hosts": [{"name": "h", "hardware": {"cores": 2, "memory": "4 GiB"}}],
           "workloads": [{"name": "w", "target": "h", "type": "closed", "clients": 4, "think_time": "0 s",
                          "demand": {"cpu": "2 s"}}]}
    res = virtsim.run_experiment(exp)
    done = res.jobs.dropna(subset=["end_s"])
    assert np.allclose(done["response_time_s"], 4.0)
    # Rounds end at 4, 8, ..., 40 s; completions at the end instant still count.
    assert len(done) == 4 * 10
    assert res.summary["cpu_utilization"].iloc[0] == pytest.approx(1.0)
