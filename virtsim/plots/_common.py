"""What every plot function shares: checking its input table, getting an Axes."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["axes_or_new", "require_columns"]


def require_columns(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the columns ``what`` needs that ``table`` lacks."""
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{what} takes a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in table.columns]
    if missing:
        have = ", ".join(map(str, table.columns)) or "none"
        raise ValueError(f"{what} needs the column(s) {', '.join(missing)}; the table has: {have}")


def axes_or_new(ax, figsize: tuple[float, float] = (6.4, 4.0)):
    """``ax`` itself, or the Axes of a new figure when it is None (the only time a figure is made)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
