"""Pictures of experiments and their results, as matplotlib functions.

Each function takes the tables virtsim produces (or, for the stack diagram,
the experiment), draws on ``ax`` (a new figure only when ``ax`` is None) and
returns the Axes. A table without a needed column raises ``ValueError``
naming it. Times and energies are shown in the unit their data need (ms,
s; Wh, kWh), legends sit outside the data, and replications give 95 %
intervals. The network (``plot_topology``) is drawn from the experiment's
``network`` section, its links coloured by utilization when given. ``virtsim plot DIR`` draws every picture a result folder allows.
"""

from .breakdown import time_breakdown
from .diagram import stack_diagram
from .heatmap import sweep_heatmap
from .placement_energy import energy_by_policy
from .response import response_time_vs_load
from .scenario_breakdown import scenario_breakdown
from .timeseries import utilization_over_time
from .topology import plot_topology

__all__ = ["energy_by_policy", "plot_topology", "response_time_vs_load", "scenario_breakdown", "stack_diagram",
           "sweep_heatmap", "time_breakdown", "utilization_over_time"]
