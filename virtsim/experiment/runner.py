"""Running an experiment: load and validate, simulate, tabulate."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

from ..config import dump_resolved, load_arrivals, load_experiment
from .manifest import build_manifest
from .progress import simulated_time_bar
from .results import Results, collect
from .simulation import Simulation


def run_spec(spec, *, seed: int | None = None, progress: bool = False) -> Results:
    """Simulate a resolved :class:`~virtsim.config.ExperimentSpec` once.

    ``progress`` shows a bar in simulated time on standard error.
    """
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    run_seed = spec.seed if seed is None else seed
    tables = {w.name: load_arrivals(spec, w) for w in spec.workloads if w.jobs_file is not None}
    sim = Simulation(spec, seed=run_seed, arrivals_tables=tables)
    with simulated_time_bar(sim, enabled=progress):
        sim.run()
    results = collect(sim)
    results.manifest = build_manifest(dump_resolved(spec), seed=run_seed, source=spec.source,
                                      started_at=started, wall_s=round(time.perf_counter() - t0, 6))
    return results


def run_experiment(source: str | os.PathLike | dict, *, seed: int | None = None) -> Results:
    """Load an experiment file (or dict), run it, and return its tables.

    >>> results = run_experiment("experiments/quickstart.yaml")   # doctest: +SKIP
    >>> results.summary[["jobs_completed", "response_time_mean_s"]]   # doctest: +SKIP
    """
    return run_spec(load_experiment(source), seed=seed)
