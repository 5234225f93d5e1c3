"""Readers of the data files an experiment names: arrivals, samples, utilization traces, pod lists.

Plain Python, numpy and pandas: nothing here knows the experiment schema or the
simulation. Each reader checks its file and raises one error type,
:class:`DataFileError`, listing the bad lines; the config layer re-homes those
problems at the key that named the file.
"""

from .arrivals_file import ArrivalsTable, load_arrivals_file
from .errors import DataFileError, FileProblem
from .pods import PodTrace, load_pods, pod_shapes
from .samples import load_samples_file
from .traces import StepSeries, UtilizationTrace, full_traces_dir, load_utilization_trace

__all__ = ["ArrivalsTable", "DataFileError", "FileProblem", "PodTrace", "StepSeries", "UtilizationTrace",
           "full_traces_dir", "load_arrivals_file", "load_pods", "load_samples_file", "load_utilization_trace",
           "pod_shapes"]
