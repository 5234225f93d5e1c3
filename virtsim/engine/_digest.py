"""The fingerprint of the engine's source, shared by the build and the import.

The build stamps it into the compiled engine; the import compares, so that a
compiled engine older than an edited source is never used in its place. Only
the standard library here: the build runs this file before virtsim's
dependencies are installed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SOURCES = ("_sharing.py", "_sharing.pxd")
"""The engine's source and the static types it is compiled with."""


def source_digest(folder: Path | str | None = None) -> str:
    """SHA-256 over the engine's source files in ``folder`` (default: this package)."""
    folder = Path(__file__).parent if folder is None else Path(folder)
    digest = hashlib.sha256()
    for name in SOURCES:
        path = folder / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()
