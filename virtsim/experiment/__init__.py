"""Experiments: a resolved spec turned into a simulation run and its tables."""

from .output import write_results
from .results import Results, collect
from .runner import run_experiment, run_spec
from .simulation import Simulation

__all__ = ["Results", "Simulation", "collect", "run_experiment", "run_spec", "write_results"]
