"""A fresh clone runs its experiments on its own: no data from outside the repository.

The repository's files (what git tracks, plus new files it does not ignore) are
copied to a folder with nothing beside it, so a path that leaves the repository
(to a data folder next to the checkout, say) finds nothing. There, every
experiment file that reads a trace or a pod list is checked as shipped with
``virtsim validate`` and run briefly with ``virtsim run``, each a process of its
own. And no test, experiment or notebook reaches outside the repository: the full
traces are found only through ``$VIRTSIM_TRACES`` (the ``full_traces`` fixture).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml

from virtsim.data.traces import TRACES_ENV

ROOT = Path(__file__).parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("**/*.yaml"))
BRIEF = "600 s"


def reads_traces(path: Path) -> bool:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return bool(raw.get("loads")) or "containers_from" in (raw.get("placement") or {})


TRACE_EXPERIMENTS = [str(p.relative_to(ROOT)) for p in EXPERIMENTS if reads_traces(p)]


def test_the_trace_experiments_are_found():
    assert {"experiments/workloads/planetlab-day.yaml", "experiments/workloads/bitbrains.yaml",
            "experiments/capacity/planetlab-consolidation.yaml",
            "experiments/capacity/alibaba-packing.yaml"} <= set(TRACE_EXPERIMENTS)


def repository_files() -> list[str]:
    """What a clone holds, as paths relative to the root: tracked files and new ones git does not ignore."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: which files a clone holds is not known")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True)
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: which files a clone holds is not known")
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def brief(path: Path) -> Path:
    """A copy of the experiment beside it (so its relative paths hold): one scenario, ``BRIEF`` long."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("sweep", "warmup", "stop_after_jobs"):
        raw.pop(key, None)
    raw["duration"] = BRIEF
    copy = path.with_name(f"brief-{path.name}")
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return copy


def virtsim_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != TRACES_ENV}
    return subprocess.run([sys.executable, "-m", "virtsim.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lonely") / "virtsim"
    for name in repository_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    assert not any(p.name != "virtsim" for p in root.parent.iterdir())  # nothing beside the clone
    return root


@pytest.fixture(scope="module")
def cli_runs(clone, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, subprocess.CompletedProcess, Path]]:
    """For each trace experiment: ``validate`` of the file as shipped, ``run`` of its brief copy, the output folder.

    Two files at a time (the processes are independent). The commands run from
    an empty folder, so the installed virtsim is imported, not the clone's source.
    """
    cwd = tmp_path_factory.mktemp("cwd")
    out = tmp_path_factory.mktemp("out")

    def check_and_run(name: str):
        path = clone / name
        results = out / path.stem
        checked = virtsim_cli("validate", str(path), cwd=cwd)
        ran = virtsim_cli("run", str(brief(path)), "-o", str(results), "--no-progress", cwd=cwd)
        return checked, ran, results

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(TRACE_EXPERIMENTS, pool.map(check_and_run, TRACE_EXPERIMENTS)))


@pytest.mark.parametrize("name", TRACE_EXPERIMENTS)
def test_a_trace_experiment_validates_and_runs_in_a_lonely_clone(name, clone, cli_runs):
    checked, ran, results = cli_runs[name]
    assert checked.returncode == 0, checked.stderr
    assert ": ok (" in checked.stdout
    assert ran.returncode == 0, ran.stderr
    assert len(pd.read_csv(results / "summary.csv")) == 1
    raw = yaml.safe_load((clone / name).read_text(encoding="utf-8"))
    samples = clone / "experiments" / "data"
    pods = (raw.get("placement") or {}).get("containers_from")
    # Every trace file read is the clone's own sample. A packing study may read no trace, only a pod list: where
    # that lies is covered by the lonely clone itself (a pod list outside it would not load).
    config = json.loads((results / "manifest.json").read_text(encoding="utf-8"))["config"]
    read = [Path(p) for load in config.get("loads", []) for p in (load.get("paths") or [load.get("path")])]
    assert read or pods, "neither a trace nor a pod list was read"
    assert len(read) >= len(raw.get("loads") or [])
    assert all(p.is_relative_to(samples) for p in read), read
    if pods:  # a packing study: its containers are the pod list's first pods, placed or not
        placed = pd.read_csv(results / "consumers.csv")["consumer"].str.contains("/pod-").sum()
        unplaced = pd.read_csv(results / "unplaced.csv")["name"].str.startswith("pod-").sum()
        assert placed + unplaced == pods["count"]


# What reaches outside the repository: a path up from the checkout or a "shared" data folder.
OUTSIDE = re.compile(r"\.\./shared|\bshared/data\b|[\"']shared[\"']\s*/|ROOT\.parent|parents\[[2-9]\]")


def test_no_test_experiment_or_notebook_refers_outside_the_repository():
    scanned = [p for p in (*(ROOT / "tests").glob("*.py"), *(ROOT / "notebooks").glob("*.ipynb"),
                           *(p for p in (ROOT / "experiments").rglob("*") if p.suffix in {".yaml", ".md"}))
               if p != Path(__file__)]
    assert len(scanned) > 20
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in scanned
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if OUTSIDE.search(line)]
    assert found == []


def test_every_data_path_of_an_experiment_file_lies_in_the_repository():
    def paths(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "path":
                    yield from ([value] if isinstance(value, str) else value)
                else:
                    yield from paths(value)
        elif isinstance(node, list):
            for value in node:
                yield from paths(value)

    written = {(p, w) for p in EXPERIMENTS for w in paths(yaml.safe_load(p.read_text(encoding="utf-8")))}
    assert len(written) >= 5
    outside = [f"{p.relative_to(ROOT)}: {w}" for p, w in written
               if not (p.parent / w).resolve().is_relative_to(ROOT.resolve()) or not (p.parent / w).is_file()]
    assert outside == []
