"""The import rules of docs/architecture.md hold: the packages form layers.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked
with import-linter, which follows every import, including those inside functions.
A second test breaks a rule in a copy of the package and checks that the contracts
catch it, so the first test cannot pass by checking nothing.
"""

from __future__ import annotations

import shutil

from import_contracts import ROOT, lint


def test_the_packages_keep_their_layers():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
    assert "Contracts: 4 kept" in done.stdout


def test_an_import_against_the_layers_is_caught(tmp_path):
    shutil.copytree(ROOT / "virtsim", tmp_path / "virtsim", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    topology = tmp_path / "virtsim" / "model" / "topology.py"
    topology.write_text(topology.read_text(encoding="utf-8") + "\n\ndef _late():\n    import simpy\n"
                        "    from ..components import platform\n", encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode == 1
    assert "virtsim.model is not allowed to import virtsim.components" in done.stdout
    assert "virtsim.model.topology -> simpy" in done.stdout
