"""virtsim: discrete-event simulation of virtualization stacks.

Run an experiment file and get its tables as pandas DataFrames::

    import virtsim
    results = virtsim.run_experiment("experiments/quickstart.yaml")
    results.summary

Or build a simulation and drive it with your own SimPy generator workloads; see
:class:`Simulation` and the README.
"""

from importlib.metadata import PackageNotFoundError, version

from .config import ConfigError, ExperimentSpec, SweepPlan, load_experiment, load_sweep
from .experiment import Results, Simulation, collect, run_experiment, run_spec, write_results
from .experiment.aggregate import SweepResults, read_results
from .experiment.sweep import SweepRun, run_sweep

try:
    __version__ = version("virtsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    # virtsim.plots on first use: matplotlib is imported only by who draws.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'virtsim' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "ExperimentSpec",
    "Results",
    "Simulation",
    "SweepPlan",
    "SweepResults",
    "SweepRun",
    "collect",
    "__version__",
    "load_experiment",
    "load_sweep",
    "read_results",
    "run_experiment",
    "run_spec",
    "run_sweep",
    "write_results",
]
