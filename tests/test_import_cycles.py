"""No import cycles among virtsim's modules, nor among its subpackages.

The rule is the import-linter contract ``no-cycles`` of ``pyproject.toml``
(``acyclic_siblings`` from ``virtsim`` down): at every level of the package, no
two siblings (modules of one package, or the subpackages of ``virtsim``)
import each other, directly or through others. import-linter counts every
``import`` statement, at module level and inside functions alike (an import
moved into a function is how a cycle gets hidden). The fixtures below show
the contract catches such cycles, so the first test cannot pass by checking
nothing. Allowed exceptions: none (the contract ignores no import).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from import_contracts import ROOT, lint

CONTRACT = "no-cycles"


def package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A ``virtsim`` package under ``tmp_path`` made of ``files`` (path → source); returns ``tmp_path``."""
    for name, source in {"__init__.py": "", **files}.items():
        path = tmp_path / "virtsim" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return tmp_path


def test_no_module_or_subpackage_imports_itself_through_others():
    done = lint(ROOT, contract=CONTRACT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No import cycles among the modules of any package, nor among the packages KEPT" in done.stdout


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    done = lint(package(tmp_path, {
        "sub/__init__.py": "from .b import B\n",
        "sub/a.py": "def f():\n    from .b import B\n    return B\n",
        "sub/b.py": "from . import a\nB = 1\n",
        "c.py": "from .sub import B\n",
    }), contract=CONTRACT)
    assert done.returncode == 1
    assert "No cycles are allowed in virtsim.sub." in done.stdout


def test_a_cycle_between_subpackages_through_their_modules_is_found(tmp_path):
    done = lint(package(tmp_path, {
        "p/__init__.py": "",
        "p/x.py": "from ..q.y import Y\nX = 1\n",
        "q/__init__.py": "",
        "q/y.py": "def later():\n    from ..p import x\n    return x\nY = 2\n",
    }), contract=CONTRACT)
    assert done.returncode == 1
    assert "No cycles are allowed in virtsim." in done.stdout


@pytest.mark.parametrize("statement", ["from . import _compiled", "from ._compiled import X"])
def test_a_compiled_submodule_is_no_edge_to_its_package(tmp_path, statement):
    done = lint(package(tmp_path, {
        "engine/__init__.py": "from .sharing import S\n",
        "engine/sharing.py": f"def load():\n    {statement}\nS = 1\n",
    }), contract=CONTRACT)
    assert done.returncode == 0, done.stdout[-3000:]
