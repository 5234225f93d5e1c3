"""The config layer: experiment files in, resolved plain-data specs out.

``load_experiment`` reads a YAML file (or a dict), validates it against the
input schema, expands catalog profiles, reads data files, cross-checks
capacities and targets, and returns a frozen :class:`ExperimentSpec` in SI
units. Every problem is collected and raised at once as a :class:`ConfigError`.
This package knows nothing of the simulation engine.
"""

from ..data.arrivals_file import ArrivalsTable, load_arrivals_file
from .catalog import catalog_names, load_catalog_entry, load_profile
from .errors import ConfigError, Problem
from .loader import dump_resolved, load_arrivals, load_experiment
from .network import NetworkSpec
from .profiles import EngineProfile, HypervisorProfile, OSProfile
from .spec import (
    ConstantDist,
    ContainerSpec,
    DemandSpec,
    DiskDemand,
    DiskSpec,
    DistributionSpec,
    EmpiricalDist,
    ExperimentSpec,
    ExponentialDist,
    FileArrivals,
    HardwareSpec,
    HostSpec,
    LognormalDist,
    NetDemand,
    NicSpec,
    PoissonArrivals,
    VMSpec,
    WorkloadSpec,
)
from .sweep_plan import Point, Scenario, SweepPlan, load_sweep
from .units import parse_quantity

__all__ = [
    "ArrivalsTable",
    "ConfigError",
    "ConstantDist",
    "ContainerSpec",
    "DemandSpec",
    "DiskDemand",
    "DiskSpec",
    "DistributionSpec",
    "EmpiricalDist",
    "EngineProfile",
    "ExperimentSpec",
    "ExponentialDist",
    "FileArrivals",
    "HardwareSpec",
    "HostSpec",
    "HypervisorProfile",
    "LognormalDist",
    "NetDemand",
    "NetworkSpec",
    "NicSpec",
    "OSProfile",
    "PoissonArrivals",
    "Point",
    "Problem",
    "Scenario",
    "SweepPlan",
    "VMSpec",
    "WorkloadSpec",
    "catalog_names",
    "dump_resolved",
    "load_arrivals",
    "load_arrivals_file",
    "load_catalog_entry",
    "load_experiment",
    "load_profile",
    "load_sweep",
    "parse_quantity",
]
