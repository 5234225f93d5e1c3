"""A sweep point as plain data: what a worker receives, runs and sends back.

Workers get the resolved scenario (JSON-ready data) and a seed, never a
callable; they rebuild the spec (data files are re-read by path), run it and
return the tables. Every executor runs points through :func:`run_point`, so
the tables do not depend on which one ran them.
"""

from __future__ import annotations

import hashlib

from ..config import ExperimentSpec, Point, dump_resolved
from .manifest import config_hash, versions
from .runner import run_spec
from .store import AGGREGATED_TABLES, STORED_TABLES, parquet_bytes, read_parquet_bytes

__all__ = ["point_key", "point_task", "run_point"]


def point_key(config_sha256: str, seed: int, virtsim_version: str) -> str:
    """What identifies a finished point: the resolved scenario's hash, the seed and virtsim's version."""
    return hashlib.sha256(f"{config_sha256}:{seed}:{virtsim_version}".encode()).hexdigest()


def point_task(point: Point, *, virtsim_version: str | None = None) -> dict:
    """The plain data a worker needs for ``point`` (and the key its results are stored under)."""
    config = dump_resolved(point.scenario.spec)
    version = virtsim_version or versions()["virtsim"]
    return {
        "key": point_key(config_hash(config), point.seed, version),
        "scenario": point.scenario.index,
        "replication": point.replication,
        "seed": point.seed,
        "values": point.scenario.values,
        "config": config,
    }


def run_point(task: dict) -> dict:
    """Run one point in a worker.

    Returns ``{"files": {table: Parquet bytes}, "tables": {table: DataFrame},
    "manifest": {...}}``: the worker encodes the Parquet files (so the sweep's
    own process only writes bytes), and the small tables come back decoded
    from those bytes, exactly as a later read of the stored point gives them.
    """
    spec = ExperimentSpec.model_validate(task["config"])
    results = run_spec(spec, seed=task["seed"])
    files = {name: parquet_bytes(table) for name, table in results.tables().items() if name in STORED_TABLES}
    small = {name: read_parquet_bytes(files[name]) for name in AGGREGATED_TABLES if name in files}
    return {"files": files, "tables": small, "manifest": results.manifest}
