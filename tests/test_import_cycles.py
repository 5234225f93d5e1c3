"""No import cycles among virtsim's modules, nor among its subpackages.

The import graph is read from the source with ``ast``: every ``import`` and
``from … import`` statement counts, at module level and inside functions
alike (an import moved into a function is how a cycle gets hidden). An edge
goes to the submodule a statement names when it names one, else to the module
or package it imports from: ``from . import inputs`` depends on
``config.inputs``, ``from ..config import load_experiment`` on the package
``config`` (its ``__init__``). A name an ``__init__`` does not bind can only be
a submodule (the compiled engine, ``engine._sharing_c``, has no ``.py``).

Allowed exceptions: none.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "virtsim"

ALLOWED: set[tuple[str, str]] = set()
"""Edges (importer, imported) left out of the check, each with its reason. None today."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _bound_names(tree: ast.Module) -> set[str]:
    """Names a package's ``__init__`` binds at its top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name → the virtsim modules it imports anywhere in its source."""
    paths = {module_name(path, package.parent): path for path in sorted(package.rglob("*.py"))}
    trees = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in paths.items()}
    bound = {name: _bound_names(tree) for name, tree in trees.items() if paths[name].name == "__init__.py"}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, tree in trees.items():
        here = name.split(".") if paths[name].name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[:len(here) - node.level + 1] if node.level else []
                source = ".".join([*base, *([node.module] if node.module else [])])
                imported = []
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in paths:
                        imported.append(submodule)
                    elif source in bound and alias.name not in bound[source]:
                        continue  # a compiled submodule: nothing of ours it could import
                    else:
                        imported.append(source)
            else:
                continue
            graph[name] |= {other for other in imported
                            if other in paths and other != name and (name, other) not in ALLOWED}
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same edges between virtsim's subpackages (and top-level modules), ``virtsim.config`` and so on."""
    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for name, imported in graph.items():
        packages.setdefault(top(name), set()).update(top(other) for other in imported if top(other) != top(name))
    return packages


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        return err.args[1]
    return None


def test_no_module_imports_itself_through_others():
    found = cycle(import_graph())
    assert found is None, f"import cycle: {' -> '.join(found)}"


def test_no_subpackage_imports_itself_through_others():
    found = cycle(package_graph(import_graph()))
    assert found is None, f"import cycle between subpackages: {' -> '.join(found)}"


def test_function_level_imports_count(tmp_path):
    """A cycle hidden in a function is found (and so is one through a package's __init__)."""
    package = tmp_path / "virtsim"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .b import B\n")
    (package / "sub" / "a.py").write_text("def f():\n    from .b import B\n    return B\n")
    (package / "sub" / "b.py").write_text("from . import a\nB = 1\n")
    (package / "c.py").write_text("from .sub import B\n")
    graph = import_graph(package)
    assert graph["virtsim.sub.a"] == {"virtsim.sub.b"} and graph["virtsim.c"] == {"virtsim.sub"}
    assert sorted(set(cycle(graph))) == ["virtsim.sub.a", "virtsim.sub.b"]


@pytest.mark.parametrize("statement", ["from . import _compiled", "from ._compiled import X"])
def test_a_compiled_submodule_is_no_edge_to_its_package(tmp_path, statement):
    package = tmp_path / "virtsim"
    (package / "engine").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "engine" / "__init__.py").write_text("from .sharing import S\n")
    (package / "engine" / "sharing.py").write_text(f"def load():\n    {statement}\nS = 1\n")
    assert cycle(import_graph(package)) is None
