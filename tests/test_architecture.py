"""The import rules of docs/architecture.md hold: the packages form layers.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked
with import-linter, which follows every import, including those inside functions.
A second test breaks a rule in a copy of the package and checks that the contracts
catch it, so the first test cannot pass by checking nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())", "--no-cache"]


def lint(package_parent: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT, str(config)], cwd=package_parent, capture_output=True, text=True,
                          env={"PYTHONPATH": str(package_parent), "PATH": ""})


def test_the_packages_keep_their_layers():
    done = lint(ROOT, ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
    assert "Contracts: 3 kept" in done.stdout


def test_an_import_against_the_layers_is_caught(tmp_path):
    shutil.copytree(ROOT / "virtsim", tmp_path / "virtsim", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    topology = tmp_path / "virtsim" / "model" / "topology.py"
    topology.write_text(topology.read_text(encoding="utf-8") + "\n\ndef _late():\n    import simpy\n"
                        "    from ..components import platform\n", encoding="utf-8")
    done = lint(tmp_path, ROOT / "pyproject.toml")
    assert done.returncode == 1
    assert "virtsim.model is not allowed to import virtsim.components" in done.stdout
    assert "virtsim.model.topology -> simpy" in done.stdout
