"""Finished sweep points on disk, one folder each, written atomically and verified on read.

Layout under the output folder::

    points/<key>/manifest.json      what ran (scenario, replication, seed, resolved config,
                                    versions) and the sha256 of each table file
    points/<key>/<table>.parquet    summary, workloads, stacks, consumers, jobs; and
                                    placement, unplaced for an experiment with a placement

A point is written into ``points/.tmp-<key>-<pid>`` and renamed into place
when complete, so a killed sweep leaves either a whole point or a temporary
folder (removed at the next start). Reading checks every table's sha256; a
point that fails is reported as corrupt and never read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from .folder import POINT_TMP_PREFIX, POINTS_DIR

__all__ = ["AGGREGATED_TABLES", "CorruptPoint", "OPTIONAL_TABLES", "POINT_FORMAT", "PointStore", "STORED_TABLES",
           "parquet_bytes", "read_parquet_bytes"]

POINT_FORMAT = "virtsim-point/1"
TABLES = ("summary", "workloads", "stacks", "consumers", "jobs")
"""The tables every point has."""
SMALL_TABLES = ("summary", "workloads", "stacks", "consumers")
"""The tables of every point aggregated into CSVs; ``jobs`` (one row per job) stays in the points."""
OPTIONAL_TABLES = ("placement", "unplaced", "links")
"""Tables a point has only when its experiment has a ``placement`` (or ``network``) section; aggregated like the
small ones."""
STORED_TABLES = (*TABLES, *OPTIONAL_TABLES)
"""Every table a point can hold."""
AGGREGATED_TABLES = (*SMALL_TABLES, *OPTIONAL_TABLES)
"""Every table aggregated into the sweep's CSVs (an optional one only when the points have it)."""


class CorruptPoint(Exception):
    """A point folder that is partial or whose files do not match its manifest."""


class PointStore:
    """The ``points/`` folder of a sweep's output folder."""

    def __init__(self, folder: str | os.PathLike):
        self.root = Path(folder) / POINTS_DIR

    def path(self, key: str) -> Path:
        return self.root / key

    def remove_temporaries(self) -> None:
        """Remove half-written points left by a sweep that was killed."""
        if self.root.is_dir():
            for tmp in self.root.glob(f"{POINT_TMP_PREFIX}*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def write(self, key: str, point: dict, files: dict[str, bytes], run_manifest: dict) -> Path:
        """Write one finished point (each table as Parquet bytes); replaces a corrupt folder of the same key.

        ``files`` holds every table of ``TABLES`` and any of ``OPTIONAL_TABLES``."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{POINT_TMP_PREFIX}{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        entries = {}
        for name in _held(STORED_TABLES, files):
            data = files[name]
            (tmp / f"{name}.parquet").write_bytes(data)
            entries[name] = {"file": f"{name}.parquet", "sha256": hashlib.sha256(data).hexdigest()}
        manifest = {"format": POINT_FORMAT, "key": key, "point": point, "tables": entries, **run_manifest}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        final = self.path(key)
        if final.exists():  # a corrupt leftover: finished points are never rewritten
            shutil.rmtree(final)
        os.rename(tmp, final)
        return final

    def manifest(self, key: str) -> dict:
        """The verified manifest of a point; raises ``FileNotFoundError`` or ``CorruptPoint``."""
        folder = self.path(key)
        if not folder.is_dir():
            raise FileNotFoundError(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorruptPoint(f"{folder}: no manifest.json (a partial point)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CorruptPoint(f"{folder}: unreadable manifest.json ({err})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != POINT_FORMAT or manifest.get("key") != key:
            raise CorruptPoint(f"{folder}: manifest.json is not a {POINT_FORMAT} manifest of point {key}")
        listed = manifest.get("tables") if isinstance(manifest.get("tables"), dict) else {}
        for name in _held(STORED_TABLES, listed):
            entry = listed.get(name)
            if not isinstance(entry, dict):
                raise CorruptPoint(f"{folder}: manifest.json lists no {name} table")
            try:
                data = (folder / entry["file"]).read_bytes()
            except OSError:
                raise CorruptPoint(f"{folder}: {entry['file']} is missing") from None
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                raise CorruptPoint(f"{folder}: {entry['file']} does not match its sha256 in manifest.json")
        return manifest

    def is_finished(self, key: str) -> bool:
        """True if the point is on disk and whole; False if absent; ``CorruptPoint`` if damaged."""
        try:
            self.manifest(key)
        except FileNotFoundError:
            return False
        return True

    def tables(self, key: str, names=TABLES) -> dict[str, pd.DataFrame]:
        """The named tables of a verified point (an optional one it does not have is left out)."""
        manifest = self.manifest(key)
        folder = self.path(key)
        listed = manifest["tables"]
        return {name: pd.read_parquet(folder / listed[name]["file"]) for name in _held(names, listed)}


def _held(names, listed) -> list[str]:
    """``names`` but the optional tables not in ``listed`` (a point's files or its manifest's tables)."""
    return [name for name in names if name in listed or name not in OPTIONAL_TABLES]


def parquet_bytes(table: pd.DataFrame) -> bytes:
    """A table as the bytes of a Parquet file (the same table gives the same bytes)."""
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def read_parquet_bytes(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))
