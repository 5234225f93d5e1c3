"""Running import-linter on a tree of the ``virtsim`` package: the contracts of ``pyproject.toml``, or others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
PYPROJECT = ROOT / "pyproject.toml"
_LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"]


def lint(package_parent: Path, config: Path = PYPROJECT, contract: str | None = None) -> subprocess.CompletedProcess:
    """``lint-imports config`` on the ``virtsim`` package found in ``package_parent`` (exit 0: all kept);
    only the contract of id ``contract`` when one is named."""
    only = ["--contract", contract] if contract else []
    return subprocess.run([*_LINT, *only, str(config)], cwd=package_parent, capture_output=True, text=True,
                          env={"PYTHONPATH": str(package_parent), "PATH": ""})
