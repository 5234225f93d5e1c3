"""Pod records (Alibaba cluster-trace-gpu-v2023, ``openb_pod_list_*.csv``) as per-target demand over time.

A pod runs from its ``scheduled_time`` to its ``deletion_time`` (seconds from the
trace start) and asks for ``cpu_milli`` milli-cores and ``memory_mib`` MiB; pods
that were never scheduled (``Pending``, empty ``scheduled_time``) never ran and are
left out. Pods are dealt round-robin onto the targets in order of scheduled time,
and each target's demand is the sum of its live pods' requests: a step series
of cores (and of bytes requested), ready for the same fluid replay as a
utilization trace.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from ..wording import format_value
from .errors import DataFileError, FileProblem
from .traces import MAX_PROBLEMS, StepSeries, TraceRow, _open_text, _sha256, _steps

__all__ = ["PodTrace", "load_pods", "pod_shapes"]

COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
           "creation_time", "deletion_time", "scheduled_time")
MIB = 2**20


@dataclass(frozen=True, eq=False)
class PodTrace:
    """Per target (in the order given): CPU requested in cores and memory requested in bytes, over time."""

    rows: tuple[TraceRow, ...]
    pods: int
    """Pods replayed."""
    sha256: str


def load_pods(path, targets: list[str], count: int | None, start_s: float) -> PodTrace:
    """The first ``count`` scheduled pods (all if None) scheduled at or after ``start_s``, dealt onto ``targets``.

    Raises ``DataFileError`` naming the line of each bad record (at most 20).
    """
    records = _scheduled(path, count, start_s)
    rows = []
    for k, target in enumerate(targets):
        mine = records[k::len(targets)]
        rows.append(TraceRow(target, _live_sum([(r[2], r[3], r[0]) for r in mine], start_s),
                             _live_sum([(r[2], r[3], r[1]) for r in mine], start_s)))
    return PodTrace(tuple(rows), len(records), _sha256([path]))


def pod_shapes(path, count: int | None, start_s: float = 0.0) -> list[tuple[int, float, float]]:
    """(line, cores, bytes) requested by the first ``count`` pods scheduled at or after ``start_s``, in that order.

    What a packing study places: the trace as a sequence of pod shapes.
    Raises ``DataFileError`` as :func:`load_pods`.
    """
    return [(r[4], r[0], r[1]) for r in _scheduled(path, count, start_s)]


def _scheduled(path, count: int | None, start_s: float) -> list[tuple]:
    """Records of the pods scheduled at or after ``start_s`` in order of scheduled time (the first ``count``)."""
    records, problems = [], []
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise DataFileError([FileProblem(f"header must be {','.join(COLUMNS)}, got {format_value(header)}", 1)],
                              str(path))
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            parsed = _record(record, line, problems)
            if parsed is not None and parsed[2] is not None:  # scheduled
                records.append(parsed)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise DataFileError(problems, str(path))
    records.sort(key=lambda r: (r[2], r[4]))  # by scheduled time, then file order
    records = [r for r in records if r[2] >= start_s]
    if count is not None:
        if len(records) < count:
            raise DataFileError([FileProblem(f"{count} pods asked for, the trace has {len(records)} scheduled at or "
                                           f"after {start_s:g} s")], str(path))
        records = records[:count]
    return records


def _record(record: list[str], line: int, problems: list) -> tuple | None:
    """(cores, bytes, scheduled_s or None, deletion_s, line) of one pod, or None after recording a problem."""
    if len(record) != len(COLUMNS):
        problems.append(FileProblem(f"expected {len(COLUMNS)} fields, got {len(record)}", line))
        return None
    fields = dict(zip(COLUMNS, record))
    values = {}
    for key, unit in (("cpu_milli", "milli-cores"), ("memory_mib", "MiB"), ("creation_time", "s"),
                      ("deletion_time", "s"), ("scheduled_time", "s")):
        text = fields[key].strip()
        if key == "scheduled_time" and text == "":
            values[key] = None
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (np.isfinite(value) and value >= 0):
            problems.append(FileProblem(f"{key} must be a number of {unit} ≥ 0, got {format_value(text)}", line))
            return None
        values[key] = value
    scheduled, deleted = values["scheduled_time"], values["deletion_time"]
    if scheduled is not None and deleted < scheduled:
        problems.append(FileProblem(f"deletion_time {deleted:g} is before scheduled_time {scheduled:g}", line))
        return None
    return values["cpu_milli"] / 1000.0, values["memory_mib"] * MIB, scheduled, deleted, line


def _live_sum(pods: list[tuple[float, float, float]], start_s: float) -> StepSeries:
    """Σ amount of the pods live at each time, from (begin_s, end_s, amount) triples; times from ``start_s``."""
    if not pods:
        return StepSeries(np.zeros(1), np.zeros(1), 0.0)
    begin = np.array([p[0] for p in pods]) - start_s
    end = np.array([p[1] for p in pods]) - start_s
    amount = np.array([p[2] for p in pods])
    times = np.concatenate([begin, end])
    deltas = np.concatenate([amount, -amount])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(deltas[order])
    last = np.r_[times[1:] != times[:-1], True]  # the level after every change at one instant
    times, level = times[last], level[last]
    level[np.abs(level) < 1e-9 * max(amount.max(), 1.0)] = 0.0  # rounding of + and − the same amounts
    return _steps(times, level, float(times[-1]))
