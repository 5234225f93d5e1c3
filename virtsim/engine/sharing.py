"""Hierarchical fluid sharing of rate resources: the engine's public module.

The model is written once, in plain Python, in :mod:`virtsim.engine._sharing`
(its docstring explains the semantics). Installing virtsim also compiles that
same file with Cython, typed by ``_sharing.pxd``, into ``_sharing_c`` when a C
compiler is at hand. This module serves the compiled build when there is one
built from the current source, else the plain one; both give bit-identical
results. Set the environment variable ``VIRTSIM_PURE_PYTHON=1`` to use the
plain one (to step through it in a debugger, say).
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

from . import _sharing
from ._digest import source_digest


def _implementation() -> ModuleType:
    if os.environ.get("VIRTSIM_PURE_PYTHON", "") not in ("", "0"):
        return _sharing
    try:
        from . import _sharing_c
    except ImportError:  # installed without a C compiler
        return _sharing
    if getattr(_sharing_c, "SOURCE_SHA256", None) != source_digest():
        warnings.warn(
            "virtsim's compiled engine was built from another version of virtsim/engine/_sharing.py; "
            "using the plain-Python engine until it is rebuilt (pip install -e .)",
            RuntimeWarning, stacklevel=2)
        return _sharing
    return _sharing_c


implementation: ModuleType = _implementation()
"""The module that runs: ``virtsim.engine._sharing_c`` (compiled) or ``virtsim.engine._sharing``."""
COMPILED: bool = implementation is not _sharing
"""True when the compiled engine runs."""

Activity = implementation.Activity
RateResource = implementation.RateResource
ShareNode = implementation.ShareNode
INF = _sharing.INF
REL_TOLERANCE = _sharing.REL_TOLERANCE

__all__ = ["COMPILED", "INF", "REL_TOLERANCE", "Activity", "RateResource", "ShareNode", "implementation"]
