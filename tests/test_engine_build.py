"""The two builds of the sharing engine: compiled (Cython) and plain Python.

``virtsim/engine/_sharing.py`` is the one source; installing virtsim compiles it
when a C compiler is at hand (setup.py). Both builds must give byte-identical
tables, the plain one must pass the engine's own tests, and a compiled build
that no longer matches its source must never be used in its place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import virtsim
from virtsim.engine import _sharing, sharing
from virtsim.experiment.manifest import ENGINE_FIELD, TIMING_FIELDS

ROOT = Path(__file__).parents[1]
TABLES = ("summary.csv", "workloads.csv", "stacks.csv", "consumers.csv", "jobs.csv", "failures.csv")
# Between them: open and closed loads, containers in VMs, a Type 2 host OS,
# device I/O, per-operation costs, memory reclaim, failures and restarts.
EXPERIMENTS = ("mmc.yaml", "availability.yaml", "overcommit.yaml", "stacks/docker-in-kvm.yaml",
               "stacks/virtualbox.yaml", "cfs-throttling.yaml")


def plain_env() -> dict[str, str]:
    return {**os.environ, "VIRTSIM_PURE_PYTHON": "1"}


def test_the_plain_engine_passes_the_engine_tests():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "tests/test_sharing.py", "tests/test_engine_wakeup.py", "tests/test_root_hook.py", "tests/test_overload.py",
         "tests/test_cfs_quota.py"],
        cwd=ROOT, env=plain_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "sharing engine: python" in proc.stdout  # the header says which build ran
    assert " passed" in proc.stdout.splitlines()[-1]


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler here")
@pytest.mark.skipif(os.environ.get("VIRTSIM_PURE_PYTHON", "") not in ("", "0"), reason="the plain engine was asked for")
def test_the_engine_is_compiled_where_a_compiler_is_at_hand():
    """A compile error (an edit to _sharing.pxd, say) only warns during the install: caught here instead."""
    assert sharing.COMPILED, "virtsim/engine/_sharing_c was not built: run pip install -e . and read its warnings"


def test_the_environment_variable_selects_the_plain_engine(monkeypatch):
    monkeypatch.setenv("VIRTSIM_PURE_PYTHON", "1")
    assert sharing._implementation() is _sharing
    monkeypatch.setenv("VIRTSIM_PURE_PYTHON", "0")
    assert (sharing._implementation() is _sharing) == (not sharing.COMPILED)


@pytest.mark.skipif(not sharing.COMPILED, reason="installed without a C compiler: only the plain engine exists")
def test_a_compiled_engine_built_from_another_source_is_not_used(monkeypatch):
    monkeypatch.delenv("VIRTSIM_PURE_PYTHON", raising=False)
    assert sharing._implementation() is sharing.implementation  # the build matches the source
    monkeypatch.setattr(sharing, "source_digest", lambda: "0" * 64)  # as if _sharing.py had been edited since
    with pytest.warns(RuntimeWarning, match="rebuilt"):
        assert sharing._implementation() is _sharing


@pytest.mark.skipif(not sharing.COMPILED, reason="installed without a C compiler: only the plain engine exists")
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_compiled_and_plain_engines_write_byte_identical_tables(name, tmp_path):
    source = ROOT / "experiments" / name
    compiled = tmp_path / "compiled"
    virtsim.write_results(virtsim.run_experiment(source), compiled)
    # One replication, as run_experiment runs the file (mmc.yaml states replications for its theory).
    proc = subprocess.run([sys.executable, "-m", "virtsim.cli", "run", str(source), "-o", str(tmp_path / "plain"),
                           "--set", "replications=1"],
                          env=plain_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for table in TABLES:
        assert (compiled / table).read_bytes() == (tmp_path / "plain" / table).read_bytes(), table
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (compiled, tmp_path / "plain")]
    assert [m[ENGINE_FIELD] for m in manifests] == ["compiled", "python"]
    for manifest in manifests:
        for key in (*TIMING_FIELDS, ENGINE_FIELD):
            del manifest[key]
    assert manifests[0] == manifests[1]
