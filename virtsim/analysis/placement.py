"""The placement tables: each host the pool could use, what is committed on it, and its stranded CPU."""

from __future__ import annotations

import pandas as pd

__all__ = ["UNPLACED_COLUMNS", "fragmentation", "placement_table", "unplaced_table"]

UNPLACED_COLUMNS = ["name", "kind", "reason"]


def unplaced_table(placement) -> pd.DataFrame:
    """One row per pool item (or workload, failure) left out, and why."""
    return pd.DataFrame([u.model_dump() for u in placement.unplaced], columns=UNPLACED_COLUMNS)


def placement_table(placement) -> pd.DataFrame:
    """Per host the pool could use: capacities, commitments, and whether the median pool item still fits."""
    table = pd.DataFrame([room.model_dump() for room in placement.rooms],
                         columns=["host", "items", "cpu_capacity_cores", "cpu_committed_cores",
                                  "memory_capacity_bytes", "memory_committed_bytes"])
    cpu_free = table["cpu_capacity_cores"] - table["cpu_committed_cores"]
    memory_free = table["memory_capacity_bytes"] - table["memory_committed_bytes"]
    if placement.median_request is None:
        table["median_item_fits"] = True
    else:
        cores, nbytes = placement.median_request
        table["median_item_fits"] = (cpu_free >= cores - 1e-9) & (memory_free >= nbytes - 1e-6)
    return table


def fragmentation(table: pd.DataFrame) -> float:
    """Free CPU stranded on used hosts (where the median pool item no longer fits), over their CPU capacity.

    As in "Beware of Fragmentation" (Weng et al., ATC 2023), a resource is
    fragmented when it is free but no typical task can use it; here for CPU and
    memory, the typical task being the median pool item.
    """
    used = table[table["items"] > 0]
    if used.empty:
        return float("nan")
    free = used["cpu_capacity_cores"] - used["cpu_committed_cores"]
    return float(free[~used["median_item_fits"]].sum() / used["cpu_capacity_cores"].sum())
