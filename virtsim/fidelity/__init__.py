"""Fidelity check: the calibration micro-benchmarks replayed on the default profiles.

:func:`run_fidelity` runs every published row of :mod:`.published` as an
ordinary experiment (see :mod:`.benchmarks`) and compares the simulated value
with the published one; the rows of :mod:`.theory` check the service
disciplines against queueing theory the same way::

    from virtsim.fidelity import run_fidelity
    table = run_fidelity()
    table[table.status != "PASS"]

Statuses: ``PASS`` (within tolerance), ``FAIL`` (outside it, unexpectedly),
``GAP`` (outside it, a known limitation listed in :mod:`.gaps` with its reason),
``NOT MODELLED`` (the simulator has no model of the quantity yet). A row with a
published bound ("> 95%", "≤ 125 ms") has tolerance 0 and passes on its side
of the bound.
"""

from __future__ import annotations

import math

import pandas as pd

from . import benchmarks, published, theory
from .benchmarks import Runner
from .gaps import KNOWN_GAPS
from .published import Row

PASS, FAIL, GAP = "PASS", "FAIL", "GAP"

ROWS: tuple[Row, ...] = published.ROWS + theory.ROWS
"""Every row of the table: the published measurements, then the queueing-theory checks."""
BY_ID: dict[str, Row] = {row.id: row for row in ROWS}
PLAN = benchmarks.PLAN | theory.PLAN
"""Row id → ``callable(runner) -> simulated value`` in the row's unit."""

COLUMNS = ("id", "benchmark", "stack", "metric", "unit", "simulated", "published", "rel_error", "tolerance",
           "status", "source", "note")


def within(row: Row, simulated: float) -> bool:
    """True when ``simulated`` meets the published row (tolerance, or its bound)."""
    if not math.isfinite(simulated):
        return False
    if row.bound == "min":
        return simulated >= row.value
    if row.bound == "max":
        return simulated <= row.value
    return abs(simulated - row.value) <= row.tolerance * abs(row.value)


def status_of(row: Row, simulated: float) -> str:
    if within(row, simulated):
        return PASS
    return GAP if row.id in KNOWN_GAPS else FAIL


def run_fidelity(ids=None) -> pd.DataFrame:
    """Simulate the published rows (all, or those in ``ids``) and compare; one table row each."""
    rows = ROWS if ids is None else tuple(BY_ID[i] for i in ids)
    runner = Runner()
    records = []
    for row in rows:
        simulated = float(PLAN[row.id](runner))
        status = status_of(row, simulated)
        if row.id in KNOWN_GAPS:
            note = ("known gap: " if status == GAP else "listed as a known gap but passes: ") + KNOWN_GAPS[row.id]
        else:
            note = ""
        records.append({
            "id": row.id, "benchmark": row.benchmark, "stack": row.stack, "metric": row.metric,
            "unit": row.unit, "simulated": simulated, "published": row.value,
            "rel_error": (simulated - row.value) / row.value,
            "tolerance": 0.0 if row.bound else row.tolerance,
            "status": status, "source": row.source, "note": note,
        })
    table = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    table.attrs["runs"] = runner.runs
    return table


__all__ = ["BY_ID", "FAIL", "GAP", "PASS", "PLAN", "ROWS", "run_fidelity", "status_of", "within"]
