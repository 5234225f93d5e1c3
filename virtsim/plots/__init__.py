"""Pictures of experiments and their results, as matplotlib functions.

Each function takes the tables virtsim produces (or, for the stack diagram,
the experiment), draws on ``ax`` (a new figure only when ``ax`` is None) and
returns the Axes. A table without a needed column raises ``ValueError``
naming it. ``virtsim plot DIR`` draws every picture a result folder allows.
"""

from .breakdown import time_breakdown
from .diagram import stack_diagram
from .heatmap import sweep_heatmap
from .response import response_time_vs_load
from .timeseries import utilization_over_time

__all__ = ["response_time_vs_load", "stack_diagram", "sweep_heatmap", "time_breakdown", "utilization_over_time"]
