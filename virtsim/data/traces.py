"""Utilization traces: per-VM demand over time, read from the formats in ``experiments/data/traces``.

A trace becomes, for each selected VM (a trace *row*), step series of
``(time_s, value)`` change points: a value holds from its time until the next
one. Only change points are kept, so a VM whose CPU stays at 3 % for an hour
costs one event, not twelve.

Files are streamed: PlanetLab one line at a time, Bitbrains in chunks of
rows, keeping only the selected VMs' columns as compact arrays. Every value is
checked (units and ranges from each folder's README); a bad value is reported
with its file and line.

The repository ships samples of each trace (``experiments/data/traces``); the
full traces, in the same layout, are optional and found through
``$VIRTSIM_TRACES`` (:func:`full_traces_dir`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..wording import format_value
from .errors import DataFileError, FileProblem

__all__ = ["FORMATS", "TRACES_ENV", "StepSeries", "TraceRow", "UtilizationTrace", "full_traces_dir",
           "load_utilization_trace"]

FORMATS = ("planetlab", "bitbrains")

PLANETLAB_INTERVAL_S = 300.0
"""PlanetLab (CoMon) sample interval: sample k covers [300 k, 300 (k + 1)) s after midnight."""

BITBRAINS_COLUMNS = (
    "vm_id", "timestamp_s", "cpu_cores", "cpu_capacity_mhz", "cpu_usage_mhz", "cpu_usage_pct",
    "mem_capacity_kb", "mem_usage_kb", "disk_read_kBps", "disk_write_kBps", "net_rx_kBps", "net_tx_kBps",
)
KIB = 1024.0
BITBRAINS_INTERVAL_S = 300.0
"""The usual Bitbrains sample interval (94 % of consecutive samples)."""
BITBRAINS_MAX_HOLD_S = 3600.0
"""Longest a Bitbrains sample holds when the next one is late (155 gaps exceed it)."""
CHUNK_ROWS = 100_000
MAX_PROBLEMS = 20

TRACES_ENV = "VIRTSIM_TRACES"
"""Names the folder of the full traces (subfolders ``planetlab/``, ``bitbrains-rnd/``, ...)."""


def full_traces_dir() -> Path | None:
    """The folder of the full traces named by ``$VIRTSIM_TRACES``, or None when it is unset or empty.

    Nothing shipped needs it: experiments read the samples in
    ``experiments/data/traces``; tests and benchmarks that need whole traces use it.
    """
    value = os.environ.get(TRACES_ENV, "").strip()
    return Path(value).expanduser() if value else None


@dataclass(frozen=True, eq=False)
class StepSeries:
    """A piecewise-constant signal: ``values[i]`` from ``times_s[i]`` until ``times_s[i + 1]``.

    ``times_s`` is strictly increasing (seconds from the trace's start) and
    consecutive values differ; the last value holds until ``end_s``, then 0.
    """

    times_s: np.ndarray
    values: np.ndarray
    end_s: float

    def __len__(self) -> int:
        return len(self.times_s)

    def integral(self, start_s: float, end_s: float) -> float:
        """∫ value dt over [start_s, end_s] (the value is 0 after ``end_s`` of the series)."""
        edges = np.append(self.times_s, self.end_s)
        lo = np.clip(edges[:-1], start_s, end_s)
        hi = np.clip(edges[1:], start_s, end_s)
        return float(np.sum(self.values * (hi - lo)))

    def peak(self, start_s: float, end_s: float) -> float:
        """Largest value in effect at some time in [start_s, end_s] (0 if none)."""
        edges = np.append(self.times_s, self.end_s)
        live = (edges[1:] > start_s) & (edges[:-1] <= end_s)
        return float(self.values[live].max()) if live.any() else 0.0


def _steps(times_s: np.ndarray, values: np.ndarray, end_s: float) -> StepSeries:
    """Keep only the samples where the value changes."""
    values = np.asarray(values, dtype=np.float64)
    if len(values):
        keep = np.ones(len(values), dtype=bool)
        keep[1:] = values[1:] != values[:-1]
        times_s, values = times_s[keep], values[keep]
    return StepSeries(np.ascontiguousarray(times_s, dtype=np.float64), np.ascontiguousarray(values), float(end_s))


@dataclass(frozen=True, eq=False)
class TraceRow:
    """One VM of a trace: its CPU demand as a fraction of its size, and (Bitbrains) the rest.

    ``cpu`` is dimensionless (1 = the VM's whole size); ``memory_bytes`` the
    memory in use; ``disk_bytes_per_s`` reads plus writes; ``net_bytes_per_s``
    received plus transmitted. Absent channels are None.
    """

    name: str
    cpu: StepSeries
    memory_bytes: StepSeries | None = None
    disk_bytes_per_s: StepSeries | None = None
    net_bytes_per_s: StepSeries | None = None


@dataclass(frozen=True, eq=False)
class UtilizationTrace:
    """The selected rows of a trace, in the order they were asked for."""

    format: str
    rows: tuple[TraceRow, ...]
    sha256: str = field(repr=False)
    """SHA-256 of the files' bytes, in order."""

    def __len__(self) -> int:
        return len(self.rows)


def load_utilization_trace(fmt: str, paths: Sequence[str | Path], rows: Sequence[int | str] | None,
                           count: int) -> UtilizationTrace:
    """Read ``count`` rows of a trace: those named in ``rows`` (index or VM name), else the first ``count``.

    Raises ``DataFileError`` naming the file and line of each bad value (at most
    20), or a row that the trace does not have.
    """
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise DataFileError([FileProblem(f"file not found: {path}")], str(path))
    if fmt == "planetlab":
        if len(paths) != 1:
            raise DataFileError([FileProblem("a PlanetLab trace is one file (one day)")], str(paths[0]))
        loaded = _planetlab(paths[0], rows, count)
    elif fmt == "bitbrains":
        loaded = _bitbrains(paths, rows, count)
    else:
        raise ValueError(f"unknown trace format {fmt!r}; valid: {', '.join(FORMATS)}")
    return UtilizationTrace(fmt, tuple(loaded), _sha256(paths))


# --- PlanetLab -------------------------------------------------------------------


def _open_text(path: Path):
    raw = path.open("rb")
    head = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8", newline="")


def _planetlab(path: Path, rows: Sequence[int | str] | None, count: int) -> list[TraceRow]:
    """Rows ``vm,s000..s287``: CPU in integer percent (0–100) of the host the VM ran on."""
    wanted = _wanted(rows, count)
    wanted_set = set(wanted)
    found: dict[int | str, TraceRow] = {}
    problems: list[FileProblem] = []
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0] != "vm" or len(header) < 2:
            raise DataFileError([FileProblem(f"header must be vm,s000,s001,...; got {format_value(header)}", 1)],
                              str(path))
        samples = len(header) - 1
        times = np.arange(samples, dtype=np.float64) * PLANETLAB_INTERVAL_S
        for index, record in enumerate(reader):
            line = index + 2
            name = record[0] if record else ""
            keys = [k for k in (index, name) if k in wanted_set]
            if not keys:
                if len(found) == len(wanted_set):
                    break  # every wanted row read: the rest of the file is not needed
                continue
            if len(record) != samples + 1:
                problems.append(FileProblem(f"expected {samples + 1} fields, got {len(record)}", line))
                continue
            values = np.empty(samples)
            for k, cell in enumerate(record[1:]):
                try:
                    value = int(cell)
                except ValueError:
                    value = -1
                if not 0 <= value <= 100:
                    problems.append(FileProblem(f"{header[k + 1]} of {name!r} must be an integer percent "
                                                f"from 0 to 100, got {format_value(cell)}", line))
                    break
                values[k] = value
            else:
                row = TraceRow(name, _steps(times, values / 100.0, samples * PLANETLAB_INTERVAL_S))
                for key in keys:
                    found[key] = row
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise DataFileError(problems, str(path))
    return _in_order(wanted, found, path)


def _wanted(rows: Sequence[int | str] | None, count: int) -> list[int | str]:
    return list(range(count)) if rows is None else list(rows)


def _in_order(wanted: list, found: dict, path: Path) -> list[TraceRow]:
    missing = [k for k in wanted if k not in found]
    if missing:
        shown = ", ".join(format_value(k) for k in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DataFileError([FileProblem(f"{len(missing)} row(s) not in the trace: {shown} "
                                       f"(rows are 0-based indices or VM names)")], str(path))
    return [found[k] for k in wanted]


# --- Bitbrains -------------------------------------------------------------------


class _Columns:
    """One VM's kept columns, appended chunk by chunk (compact typed arrays)."""

    def __init__(self):
        self.parts: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        self.parts.append(block)

    def stacked(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.empty((0, 5))


def _bitbrains(paths: list[Path], rows: Sequence[int | str] | None, count: int) -> list[TraceRow]:
    """Rows of (vm_id, timestamp_s, ...) grouped by VM; several files (months) are one trace in time."""
    wanted = None if rows is None else [int(r) if str(r).isdigit() else r for r in rows]
    kept: dict[int, _Columns] = {}
    order: list[int] = []  # VM ids in order of first appearance
    last_time: dict[int, float] = {}  # each VM's latest sample so far, across files
    for path in paths:
        _bitbrains_file(path, wanted, count, kept, order, last_time)
    if wanted is None:
        wanted = order[:count]
        if len(wanted) < count:
            raise DataFileError([FileProblem(f"the trace has {len(order)} VMs, {count} asked for")], str(paths[0]))
    found = {}
    start = min((kept[v].parts[0][0, 0] for v in wanted if v in kept), default=0.0)
    for vm in wanted:
        if vm not in kept:
            continue
        data = _bridge_gaps(kept[vm].stacked())
        times = data[:, 0] - start
        # A sample holds until the next; the last one for one interval.
        end = times[-1] + (times[-1] - times[-2] if len(times) > 1 else BITBRAINS_INTERVAL_S)
        found[vm] = TraceRow(str(vm), _steps(times, data[:, 1], end), _steps(times, data[:, 2], end),
                             _steps(times, data[:, 3], end), _steps(times, data[:, 4], end))
    return _in_order(wanted, found, paths[0])


def _bridge_gaps(data: np.ndarray) -> np.ndarray:
    """Rows of zeros where a VM has no sample for longer than ``BITBRAINS_MAX_HOLD_S``.

    The trace has gaps of up to 17.7 days; a sample's value holds for at most
    that long, then the VM demands nothing (nor uses memory) until its next sample.
    """
    times = data[:, 0]
    late = np.flatnonzero(np.diff(times) > BITBRAINS_MAX_HOLD_S)
    if not len(late):
        return data
    zeros = np.zeros((len(late), data.shape[1]))
    zeros[:, 0] = times[late] + BITBRAINS_MAX_HOLD_S
    return np.insert(data, late + 1, zeros, axis=0)


def _bitbrains_file(path: Path, wanted, count: int, kept: dict, order: list, last_time: dict) -> None:
    with _open_text(path) as handle:
        header = handle.readline().strip().split(",")
    if tuple(header) != BITBRAINS_COLUMNS:
        raise DataFileError([FileProblem(f"header must be {','.join(BITBRAINS_COLUMNS)}, got "
                                       f"{format_value(','.join(header))}", 1)], str(path))
    problems: list[FileProblem] = []
    line0 = 2
    # No dtype: a chunk with a cell that is not a number reads that column as
    # text, which is then coerced so the check below can name the line.
    reader = pd.read_csv(path, chunksize=CHUNK_ROWS, compression="infer", skip_blank_lines=False,
                         on_bad_lines="error")
    try:
        for chunk in reader:
            _bitbrains_chunk(chunk, line0, path, wanted, count, kept, order, last_time, problems)
            line0 += len(chunk)
            if len(problems) >= MAX_PROBLEMS:
                break
    except (ValueError, pd.errors.ParserError) as err:
        problems.append(FileProblem(f"cannot parse CSV after line {line0 - 1}: {err}"))
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS], str(path))


def _bitbrains_chunk(chunk: pd.DataFrame, line0: int, path: Path, wanted, count: int, kept: dict,
                     order: list, last_time: dict, problems: list) -> None:
    raw = {name: chunk[name] for name in BITBRAINS_COLUMNS if not pd.api.types.is_numeric_dtype(chunk[name])}
    for name in raw:
        chunk[name] = pd.to_numeric(chunk[name], errors="coerce")
    data = chunk.to_numpy(dtype=np.float64)
    checks = (
        ("vm_id", lambda v: np.isfinite(v) & (v >= 1) & (v == np.round(v)), "a whole number ≥ 1"),
        ("timestamp_s", np.isfinite, "a finite number of seconds"),
        ("cpu_capacity_mhz", lambda v: np.isfinite(v) & (v >= 0), "a number of MHz ≥ 0"),
        ("cpu_usage_mhz", lambda v: np.isfinite(v) & (v >= 0), "a number of MHz ≥ 0"),
        ("mem_usage_kb", lambda v: np.isfinite(v) & (v >= 0), "a number of KB ≥ 0"),
        ("disk_read_kBps", lambda v: np.isfinite(v) & (v >= 0), "a number of KB/s ≥ 0"),
        ("disk_write_kBps", lambda v: np.isfinite(v) & (v >= 0), "a number of KB/s ≥ 0"),
        ("net_rx_kBps", lambda v: np.isfinite(v) & (v >= 0), "a number of KB/s ≥ 0"),
        ("net_tx_kBps", lambda v: np.isfinite(v) & (v >= 0), "a number of KB/s ≥ 0"),
    )
    col = {name: k for k, name in enumerate(BITBRAINS_COLUMNS)}
    bad_rows = np.zeros(len(data), dtype=bool)
    for name, ok, expected in checks:
        values = data[:, col[name]]
        bad = ~ok(values)
        for i in np.flatnonzero(bad)[:MAX_PROBLEMS]:
            shown = format_value(raw[name].iat[i]) if name in raw and isinstance(raw[name].iat[i], str) \
                else _shown(values[i])
            problems.append(FileProblem(f"{name} must be {expected}, got {shown}", line0 + int(i)))
        bad_rows |= bad
    # A VM not provisioned in a sample (capacity 0) can use nothing.
    unprovisioned = (data[:, col["cpu_capacity_mhz"]] == 0) & (data[:, col["cpu_usage_mhz"]] > 0)
    for i in np.flatnonzero(unprovisioned & ~bad_rows)[:MAX_PROBLEMS]:
        problems.append(FileProblem(f"cpu_usage_mhz {data[i, col['cpu_usage_mhz']]:g} with cpu_capacity_mhz 0",
                                line0 + int(i)))
    if (bad_rows | unprovisioned).any():
        return
    ids = data[:, col["vm_id"]].astype(np.int64)
    # Rows are grouped by VM: split the chunk where the id changes.
    cuts = np.flatnonzero(np.diff(ids)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(ids)]):
        vm = int(ids[lo])
        if vm not in order:
            order.append(vm)
        take = vm in wanted if wanted is not None else order.index(vm) < count
        if not take:
            continue
        block = data[lo:hi]
        times = block[:, col["timestamp_s"]]
        previous = np.r_[last_time.get(vm, -math.inf), times[:-1]]
        earlier = np.flatnonzero(times < previous)
        for i in earlier[:MAX_PROBLEMS]:
            problems.append(FileProblem(f"timestamp_s {times[i]:.15g} of VM {vm} is earlier than its previous "
                                        f"sample's", int(line0 + lo + i)))
        if len(earlier):
            continue
        fresh = times > previous  # exact duplicate timestamps: keep the first sample
        block = block[fresh]
        last_time[vm] = float(times[-1])
        kept.setdefault(vm, _Columns()).add(np.column_stack([
            block[:, col["timestamp_s"]],
            np.divide(block[:, col["cpu_usage_mhz"]], block[:, col["cpu_capacity_mhz"]],
                      out=np.zeros(len(block)), where=block[:, col["cpu_capacity_mhz"]] > 0),
            block[:, col["mem_usage_kb"]] * KIB,
            (block[:, col["disk_read_kBps"]] + block[:, col["disk_write_kBps"]]) * KIB,
            (block[:, col["net_rx_kBps"]] + block[:, col["net_tx_kBps"]]) * KIB,
        ]))


def _shown(value: float) -> str:
    return "an empty cell" if math.isnan(value) else f"{float(value):g}"


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
