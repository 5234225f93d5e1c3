"""The ``virtsim`` command line, end to end.

``virtsim run FILE [-o DIR] [--seed N]`` prints the summary and writes the
tables; ``virtsim validate FILE`` checks a file. A bad file is never a
traceback: every problem is listed on stderr with the file name and the path
inside it, and the exit status is 2.

The command is exercised both as a real process (``python -m virtsim.cli``)
and in-process through click's ``CliRunner`` for the larger matrices.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from virtsim.cli import main

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"

SUMMARY_COLUMNS = ["jobs_completed", "throughput_per_s", "response_time_mean_s", "response_time_p50_s",
                   "response_time_p95_s", "response_time_p99_s", "cpu_utilization"]
CONSUMER_COLUMNS = ["consumer", "cpu_time_s", "cpu_utilization", "steal_time_s"]
JOB_COLUMNS = ["workload", "target", "arrival_s", "start_s", "end_s", "response_time_s", "cpu_demand_s"]
OUTPUT_FILES = {"manifest.json", "summary.csv", "workloads.csv", "stacks.csv", "consumers.csv", "jobs.csv",
                "failures.csv", "scaling.csv"}

GOOD = """\
name: small
seed: 5
duration: 200 s
warmup: 20 s
hosts:
  - name: h1
    hardware: {cores: 4, core_speed: 1.0, memory: 16 GiB}
    vms:
      - {name: a, vcpus: 2, memory: 4 GiB}
      - name: b
        vcpus: 2
        memory: 4 GiB
        containers:
          - {name: web, cpus: 1.5, memory: 1 GiB}
workloads:
  - name: web
    target: h1/b/web
    type: open
    arrivals: {type: poisson, rate: 1 /s}
    demand: {cpu: {type: exponential, mean: 0.5 s}}
  - name: batch
    target: h1/a
    type: closed
    clients: 3
    think_time: 0 s
    demand: {cpu: {type: constant, value: 2 s}}
"""

POISSON = """\
    arrivals: {type: poisson, rate: 1 /s}
    demand: {cpu: {type: exponential, mean: 0.5 s}}
"""
FILE_ARRIVALS = "    arrivals: {type: file, path: rows.csv}\n"


def config_sha256(config: dict) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of the configuration,
    leaving out where the files lie (``source`` and data-file ``path`` keys)."""
    def portable(value):
        if isinstance(value, dict):
            return {k: portable(v) for k, v in value.items() if k not in ("source", "path")}
        if isinstance(value, list):
            return [portable(v) for v in value]
        return value

    canonical = json.dumps(portable(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def edited(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, f"the edit {old!r} must match exactly once"
    return text.replace(old, new)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "virtsim.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


# -- a good file --------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One real ``virtsim run FILE -o DIR`` process on a small file."""
    folder = tmp_path_factory.mktemp("good")
    (folder / "small.yaml").write_text(GOOD)
    proc = cli("run", "small.yaml", "-o", "out", cwd=folder)
    return proc, folder / "out"


def test_run_prints_the_summary_and_exits_0(good_run):
    proc, out = good_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    summary = pd.read_csv(out / "summary.csv").iloc[0]
    text = proc.stdout
    assert text.startswith("small  (seed 5, measured 180 s of simulated time)")
    assert re.search(rf"jobs completed\s+{int(summary['jobs_completed'])}\n", text)
    assert re.search(rf"throughput\s+{summary['throughput_per_s']:.4g} /s", text)
    # two unlike workloads: no pooled response time, each its own line, in a readable unit
    assert "response time, p99" not in text and math.isnan(summary["response_time_p99_s"])
    web = pd.read_csv(out / "workloads.csv").set_index("workload").loc["web"]
    line = re.search(r"\n\s+web\s+\d+ jobs  mean (\S+) (ms|s)  p99 (\S+) (ms|s)\n", text)
    scale = {"ms": 1e-3, "s": 1.0}
    assert float(line[1]) * scale[line[2]] == pytest.approx(web["response_time_mean_s"], rel=1e-3)
    assert float(line[3]) * scale[line[4]] == pytest.approx(web["response_time_p99_s"], rel=1e-3)
    assert line[2] == "ms"  # a mean of a few hundred milliseconds reads in ms, not as 0.5866 s
    assert re.search(rf"host CPU utilization\s+{summary['cpu_utilization']:.1%}", text)
    assert "per workload:" in text and re.search(r"\n\s+web\s+\d+ jobs", text) and " batch " in text
    assert "results written to out" in text


def test_output_folder_has_every_table_with_the_documented_columns(good_run):
    proc, out = good_run
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES

    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 1
    assert set(SUMMARY_COLUMNS) <= set(summary.columns)
    assert summary["jobs_completed"].iloc[0] > 0
    assert 0 < summary["cpu_utilization"].iloc[0] <= 1

    workloads = pd.read_csv(out / "workloads.csv")
    assert list(workloads["workload"]) == ["web", "batch"]
    assert set(SUMMARY_COLUMNS[:-1]) <= set(workloads.columns)
    assert workloads["jobs_completed"].sum() == summary["jobs_completed"].iloc[0]

    consumers = pd.read_csv(out / "consumers.csv")
    assert set(CONSUMER_COLUMNS) <= set(consumers.columns)
    assert list(consumers["consumer"]) == ["h1", "h1/a", "h1/b", "h1/b/web"]
    assert (consumers["cpu_time_s"] >= 0).all() and (consumers["steal_time_s"] >= 0).all()

    jobs = pd.read_csv(out / "jobs.csv")
    assert set(JOB_COLUMNS) <= set(jobs.columns) and "counted" in jobs.columns
    assert set(jobs["workload"]) == {"web", "batch"}
    assert set(jobs["target"]) == {"h1/b/web", "h1/a"}
    done = jobs.dropna(subset=["end_s"])
    assert (done["response_time_s"] - (done["end_s"] - done["arrival_s"])).abs().max() < 1e-9
    assert (jobs.loc[jobs["workload"] == "batch", "cpu_demand_s"] == 2.0).all()
    counted = jobs[jobs["counted"]]
    assert (counted["arrival_s"] >= 20.0).all()
    assert counted["end_s"].notna().sum() == summary["jobs_completed"].iloc[0]


def test_manifest_records_config_hash_seed_and_versions(good_run):
    proc, out = good_run
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    config = manifest["config"]
    assert config["name"] == "small" and config["duration_s"] == 200.0 and config["warmup_s"] == 20.0
    assert [vm["name"] for vm in config["hosts"][0]["vms"]] == ["a", "b"]
    assert manifest["config_sha256"] == config_sha256(config)
    changed = json.loads(json.dumps(config))
    changed["hosts"][0]["vms"][0]["vcpus"] += 1
    assert config_sha256(changed) != manifest["config_sha256"]
    assert manifest["seed"] == 5
    versions = manifest["versions"]
    for name in ("virtsim", "numpy", "simpy", "pandas"):
        assert versions[name] == metadata.version(name)
    assert versions["python"] == platform.python_version()
    assert "started_at" in manifest and manifest["wall_s"] >= 0


def test_seed_option_overrides_the_file_seed(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(GOOD)
    base = invoke("run", str(path), "-o", str(tmp_path / "base"))
    other = invoke("run", str(path), "-o", str(tmp_path / "other"), "--seed", "123")
    assert base.exit_code == 0 and other.exit_code == 0, base.output + other.output
    assert "(seed 5," in base.stdout and "(seed 123," in other.stdout
    assert json.loads((tmp_path / "base" / "manifest.json").read_text())["seed"] == 5
    assert json.loads((tmp_path / "other" / "manifest.json").read_text())["seed"] == 123
    assert pd.read_csv(tmp_path / "other" / "summary.csv")["seed"].iloc[0] == 123

    def web(folder):
        return pd.read_csv(tmp_path / folder / "jobs.csv").query("workload == 'web'")["arrival_s"]

    assert not web("base").equals(web("other"))


def test_validate_a_good_file(tmp_path):
    (tmp_path / "small.yaml").write_text(GOOD)
    result = invoke("validate", str(tmp_path / "small.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{tmp_path / 'small.yaml'}: ok (1 host(s), 2 workload(s))"
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == [tmp_path / "small.yaml"]  # validate writes nothing


# -- bad input ---------------------------------------------------------------------

# (id, experiment text or None for no file, extra files, what must appear on stderr)
BAD = [
    ("bad-yaml", edited("name: small", "name: [small"), {}, ["invalid YAML", "line 2"]),
    ("unknown-key", edited("{name: a, vcpus: 2, memory: 4 GiB}", "{name: a, vcpu: 2, memory: 4 GiB}"), {},
     ["hosts[0].vms[0].vcpu", "unknown key"]),
    ("wrong-type", edited("clients: 3", "clients: three"), {}, ["workloads[1].clients", "'three'"]),
    ("bad-unit", edited("rate: 1 /s", "rate: 1 furlongs"), {}, ["workloads[0].arrivals.rate"]),
    ("zero-vcpus", edited("vcpus: 2\n", "vcpus: 0\n"), {}, ["hosts[0].vms[1].vcpus", "got 0"]),
    ("zero-duration", edited("duration: 200 s", "duration: 0 s"), {}, ["duration"]),
    ("negative-memory", edited("memory: 16 GiB", "memory: -16 GiB"), {}, ["hosts[0].hardware.memory"]),
    ("negative-demand", edited("mean: 0.5 s", "mean: -0.5 s"), {}, ["workloads[0].demand.cpu.mean"]),
    ("unknown-target", edited("target: h1/b/web", "target: h1/c/web"), {},
     ["workloads[0].target", "'h1/c/web'", "h1/b/web"]),
    ("unknown-hardware", edited("{cores: 4, core_speed: 1.0, memory: 16 GiB}", "no-such-server"), {},
     ["hosts[0].hardware", "'no-such-server'", "server-2s-32c"]),
    ("container-over-vm", edited("cpus: 1.5", "cpus: 3"), {}, ["hosts[0].vms[1].containers[0].cpus"]),
    ("missing-arrivals-file", edited(POISSON, FILE_ARRIVALS), {},
     ["workloads[0].arrivals.path", "rows.csv", "not found"]),
    ("bad-arrivals-row", edited(POISSON, FILE_ARRIVALS),
     {"rows.csv": "time_s,target,cpu_s\n0.5,h1/b/web,1\n1.0,h1/b/web,1\n2.0,h1/b/web,oops\n"},
     ["workloads[0].arrivals.path", "rows.csv", "line 4", "'oops'"]),
    ("missing-experiment-file", None, {}, []),
]


def _materialize(folder: Path, case) -> Path:
    name, text, files, _ = case
    path = folder / f"{name}.yaml"
    if text is not None:
        path.write_text(text)
    for file_name, content in files.items():
        (folder / file_name).write_text(content)
    return path


def _check_bad(stdout: str, stderr: str, code: int, file_name: str, expected: list[str]) -> None:
    assert code == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert stdout == ""
    assert file_name in stderr
    for fragment in expected:
        assert fragment in stderr, f"{fragment!r} missing from:\n{stderr}"


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", BAD, ids=[case[0] for case in BAD])
def test_bad_input_is_reported_with_file_and_path(tmp_path, case, command):
    path = _materialize(tmp_path, case)
    result = invoke(command, str(path), "-o", str(tmp_path / "out")) if command == "run" else invoke(command, str(path))
    assert isinstance(result.exception, SystemExit), result.exception  # an exit, never an uncaught exception
    _check_bad(result.stdout, result.stderr, result.exit_code, path.name, case[3])
    assert not (tmp_path / "out").exists()


REAL_PROCESS_CASES = ("bad-arrivals-row", "missing-experiment-file")


def test_bad_input_as_real_processes(tmp_path):
    """Some bad cases, and a directory, through ``python -m virtsim.cli run``, the processes at once."""
    runs = []
    for case in BAD:
        if case[0] in REAL_PROCESS_CASES:
            folder = tmp_path / case[0]
            folder.mkdir()
            runs.append((folder, _materialize(folder, case).name, case[3]))
    (tmp_path / "experiment.yaml").mkdir()
    runs.append((tmp_path, "experiment.yaml", ["directory"]))
    procs = [subprocess.Popen([sys.executable, "-m", "virtsim.cli", "run", name], cwd=folder,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for folder, name, _ in runs]
    for (folder, name, expected), proc in zip(runs, procs):
        stdout, stderr = proc.communicate(timeout=120)
        assert "Traceback" not in stdout + stderr
        assert proc.returncode == 2 and name in stderr, stderr
        for fragment in expected:
            assert fragment in stderr


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_directory_instead_of_a_file(tmp_path, command):
    folder = tmp_path / "experiment.yaml"
    folder.mkdir()
    result = invoke(command, str(folder))
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "experiment.yaml" in result.stderr and "directory" in result.stderr


def test_several_problems_are_reported_at_once(tmp_path):
    text = edited("vcpus: 2\n", "vcpus: 0\n")
    text = edited("target: h1/b/web", "target: h1/c/web", text)
    text = edited("duration: 200 s", "duration: 200 parsecs", text)
    text = edited("clients: 3", "clients: -3", text)
    path = tmp_path / "several.yaml"
    path.write_text(text)
    for command in ("validate", "run"):
        result = invoke(command, str(path))
        assert result.exit_code == 2 and "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert lines[0] == f"{path}: 4 problems"
        reported = [line.strip().split(":")[0] for line in lines[1:]]
        assert reported == ["duration", "hosts[0].vms[1].vcpus", "workloads[0].target", "workloads[1].clients"]


def test_problems_within_one_item_are_all_reported(tmp_path):
    text = edited("clients: 3", "clients: three")
    text = edited("target: h1/a", "target: h1/zz", text)
    path = tmp_path / "item.yaml"
    path.write_text(text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "workloads[1].clients" in result.stderr
    assert "workloads[1].target" in result.stderr


def test_the_readme_error_example_is_what_validate_prints(tmp_path):
    readme = README.read_text(encoding="utf-8")
    experiment = re.search(r"## An experiment file\n+```yaml\n(.*?)```", readme, re.S).group(1)
    report = re.search(r"```text\n(bad\.yaml: .*?)```", readme, re.S).group(1).splitlines()
    text = edited("        vcpus: 4\n        memory: 8 GiB\n        shares: 1000",
                  "        vcpus: 0\n        memory: 8 GiB\n        shares: 1000", experiment)
    text = edited("target: h1/b/web ", "target: h1/c/web ", text)
    (tmp_path / "bad.yaml").write_text(text)
    result = invoke("validate", str(tmp_path / "bad.yaml"))
    assert result.exit_code == 2
    got = result.stderr.splitlines()
    assert report[0] == "bad.yaml: 2 problems"
    assert got[0] == f"{tmp_path / 'bad.yaml'}: 2 problems"
    assert len(got) == len(report) == 3
    for documented, printed in zip(report[1:], got[1:]):
        where, message = documented.strip().split(": ", 1)
        assert printed.strip().startswith(f"{where}: ")
        for part in message.split("; "):
            assert part in printed, f"{part!r} not in {printed!r}"


def test_seed_must_be_a_non_negative_integer(tmp_path):
    (tmp_path / "small.yaml").write_text(GOOD)
    result = invoke("run", str(tmp_path / "small.yaml"), "--seed", "-1")
    assert result.exit_code == 2 and "--seed" in result.stderr and "Traceback" not in result.output
