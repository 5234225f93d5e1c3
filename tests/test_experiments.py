"""Every shipped experiment file loads and runs, and so does the README's example.

Each file is run briefly: its YAML is loaded, ``duration`` (and ``warmup``) are
shortened, and the dict is loaded with ``base_dir`` set to the file's folder so
relative data-file paths resolve as they would from the file. New files in
``experiments/`` are picked up automatically.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import virtsim

ROOT = Path(__file__).parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("**/*.yaml"))
BRIEF_S = 60.0


def test_there_are_experiments():
    names = {path.name for path in EXPERIMENTS}
    assert {"quickstart.yaml", "mm1.yaml", "mmc.yaml", "host-containers.yaml", "trace-replay.yaml"} <= names


def briefly(raw: dict) -> dict:
    raw = dict(raw)
    raw["duration"] = f"{BRIEF_S:g} s"
    raw["warmup"] = f"{BRIEF_S / 10:g} s"
    raw.pop("stop_after_jobs", None)
    return raw


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[str(path.relative_to(ROOT / "experiments")) for path in EXPERIMENTS])
def test_experiment_file_loads_and_runs(path):
    full = virtsim.load_experiment(path)  # the file exactly as shipped
    assert (full.workloads or full.loads or full.placement) and full.hosts

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = virtsim.load_experiment(briefly(raw), base_dir=path.parent)
    assert spec.duration_s == BRIEF_S
    assert [w.name for w in spec.workloads] == [w.name for w in full.workloads]
    results = virtsim.run_spec(spec)

    summary = results.summary.iloc[0]
    assert summary["measured_s"] == pytest.approx(BRIEF_S * 0.9)
    assert summary["jobs_completed"] > 0 or not spec.workloads  # a study of trace loads alone has no jobs
    if spec.workloads or spec.loads:  # a packing study places its pool and runs nothing
        assert 0 < summary["cpu_utilization"] <= 1 + 1e-9
    else:
        assert summary["hosts_used"] > 0
    if spec.workloads:
        assert set(results.workloads["workload"]) == {w.name for w in spec.workloads}
        assert (results.workloads["jobs_arrived"] > 0).all()
    paths = set(results.consumers["consumer"])
    assert {h.name for h in spec.hosts} <= paths
    assert set(results.jobs["target"].astype(str)) <= paths
    assert results.manifest["config_sha256"]


def test_relative_data_paths_in_a_dict_resolve_against_base_dir(tmp_path, monkeypatch):
    path = ROOT / "experiments" / "trace-replay.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["workloads"][0]["arrivals"]["path"] == "data/jobs-example.csv"
    monkeypatch.chdir(tmp_path)  # somewhere the relative path does not exist
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(raw)
    assert err.value.problems[0].path == "workloads[0].arrivals.path"
    assert "data/jobs-example.csv" in str(err.value)
    spec = virtsim.load_experiment(raw, base_dir=path.parent)
    results = virtsim.run_spec(spec.model_copy(update={"duration_s": 30.0}))
    jobs = results.jobs
    # The file's first rows, replayed as written.
    assert list(jobs["arrival_s"][:3]) == [0.091837, 0.307160, 0.756123]
    assert list(jobs["target"][:3].astype(str)) == ["h1/v1", "h1/v0", "h1/v0"]
    assert list(jobs["cpu_demand_s"][:3]) == [0.188694, 1.722039, 1.356976]


def readme_experiment() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## An experiment file\n+```yaml\n(.*?)^```", readme, re.S | re.M)
    assert match, "the README's 'An experiment file' section has no yaml block"
    return match.group(1)


def test_the_readme_experiment_loads_and_runs(tmp_path):
    path = tmp_path / "two-vms.yaml"
    path.write_text(readme_experiment())
    results = virtsim.run_experiment(path)  # verbatim, full length
    summary = results.summary.iloc[0]
    assert summary["name"] == "two-vms" and summary["seed"] == 7
    assert summary["measured_s"] == 19000.0
    assert list(results.workloads["workload"]) == ["web", "batch"]
    assert (results.workloads["jobs_completed"] > 0).all()
    consumers = results.consumers.set_index("consumer")
    assert list(consumers.index) == ["h1", "h1/a", "h1/b", "h1/b/web"]
    # The batch VM's 8 clients keep its 4 vCPUs busy; the web container stays within its limit.
    assert consumers.loc["h1/a", "cpu_utilization"] == pytest.approx(1.0)
    assert consumers.loc["h1/b/web", "cpu_time_s"] <= 1.5 * 19000.0
    web = results.workloads.set_index("workload").loc["web"]
    assert web["throughput_per_s"] == pytest.approx(0.8, rel=0.05)


SWEEPS = [path for path in EXPERIMENTS if "sweep" in yaml.safe_load(path.read_text(encoding="utf-8"))]


def test_there_is_a_sweep_experiment():
    assert SWEEPS


@pytest.mark.parametrize("path", SWEEPS, ids=[str(path.relative_to(ROOT / "experiments")) for path in SWEEPS])
def test_every_scenario_of_a_sweep_file_loads_and_runs(path):
    full = virtsim.load_sweep(path)  # the file exactly as shipped: every scenario valid
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan = virtsim.load_sweep(briefly(raw), base_dir=path.parent)
    assert plan.axes == full.axes and len(plan.scenarios) == len(full.scenarios) > 1
    for scenario in plan.scenarios:
        summary = virtsim.run_spec(scenario.spec, seed=plan.seeds[0]).summary.iloc[0]
        assert summary["jobs_completed"] > 0 or not scenario.spec.workloads  # capacity studies run no jobs
