"""A regular install works: the wheel carries the model catalog and runs outside the repository.

The wheel is built once for this module from a copy of what a build reads (so
the repository's own ``build/`` is left alone), with the plain-Python engine:
the compiled engine is covered by test_engine_build, and what matters here is
what the wheel carries. It is installed without dependencies into a fresh venv
that borrows the running environment's site-packages for them (a path, not its
``.pth`` hooks, so an editable virtsim there stays invisible), and every command
runs from a folder outside the repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_engine_build import ROOT, plain_env

from virtsim.config.catalog import CATALOG_SCHEMAS, catalog_names

BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in", "virtsim", "models")
REPO_MODELS = ROOT / "models"
TIMEOUT_S = 600


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env or plain_env(), capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source], cwd=work))
    (built,) = (work / "dist").glob("virtsim-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; dependencies come from the running environment."""
    root = tmp_path_factory.mktemp("venv")
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root))
    python = root / "bin" / "python"
    _ok(_run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
             cwd=root))
    site_packages = Path(_ok(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  cwd=root)).strip())
    borrowed = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    (site_packages / "_virtsim_test_deps.pth").write_text("\n".join(borrowed) + "\n")
    return root


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working folder outside the repository, holding a copy of the quickstart."""
    shutil.copy2(ROOT / "experiments" / "quickstart.yaml", tmp_path / "quickstart.yaml")
    return tmp_path


def _env() -> dict[str, str]:
    env = plain_env()
    for key in ("VIRTSIM_MODELS", "PYTHONPATH", "PYTHONHOME"):
        env.pop(key, None)
    return env


def _virtsim(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return _run([venv / "bin" / "virtsim", *args], cwd=cwd, env=_env())


def test_the_wheel_carries_every_catalog_file(wheel):
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"virtsim/models/{path.relative_to(REPO_MODELS).as_posix()}"
                for path in REPO_MODELS.rglob("*") if path.is_file()}
    assert expected and any(name.endswith(".yaml") for name in expected)
    assert expected <= shipped, sorted(expected - shipped)


def test_the_installed_package_reads_its_own_catalog(venv, elsewhere):
    probe = ("import virtsim; from virtsim.config.catalog import catalog_dir; "
             "print(virtsim.__file__); print(catalog_dir())")
    module, catalog = _ok(_run([venv / "bin" / "python", "-c", probe], cwd=elsewhere, env=_env())).split()
    assert Path(module).is_relative_to(venv), module  # not the repository's virtsim
    assert Path(catalog).is_relative_to(venv) and Path(catalog).name == "models", catalog


def test_the_quickstart_runs_from_the_installed_package(venv, elsewhere):
    out = _ok(_virtsim(venv, elsewhere, "run", "quickstart.yaml", "-o", "results"))
    assert "jobs completed" in out and "host CPU utilization" in out
    assert (elsewhere / "results" / "summary.csv").is_file()


def test_catalog_lists_and_shows_the_installed_profiles(venv, elsewhere, monkeypatch):
    out = _ok(_virtsim(venv, elsewhere, "catalog"))
    monkeypatch.setenv("VIRTSIM_MODELS", str(REPO_MODELS))  # the names expected: the repository's profiles
    for kind in CATALOG_SCHEMAS:
        names = catalog_names(kind)
        assert names and f"{kind}:" in out
        for name in names:
            assert f"  {name} " in out, name
    assert "invalid" not in out
    shown = _ok(_virtsim(venv, elsewhere, "catalog", "kvm"))
    header = shown.splitlines()[0]
    assert header.startswith("hypervisors/kvm") and str(venv) in header  # read from the installed copy
    assert "cpu.factor:" in shown and "source:" in shown


def test_fidelity_runs_from_the_installed_package(venv, elsewhere):
    out = _ok(_virtsim(venv, elsewhere, "fidelity"))
    summary = out.strip().splitlines()[-1]
    assert re.match(r"\d+ rows: \d+ PASS", summary), summary  # exit 0: no row expected to pass fails
