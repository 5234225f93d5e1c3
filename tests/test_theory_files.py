"""The theory files (experiments/mm1.yaml, mmc.yaml): replicated runs whose interval covers the
closed form they state, and the closed form they state is the queue's."""

from __future__ import annotations

from pathlib import Path

import pytest

import virtsim
from virtsim.analysis import confidence_interval
from virtsim.analysis.queueing import mmc_mean_response_s

ROOT = Path(__file__).parents[1]

THEORY_FILES = ["mm1.yaml", "mmc.yaml"]


@pytest.mark.parametrize("name", THEORY_FILES)
def test_a_theory_file_is_replicated_and_its_interval_covers_the_theory(name):
    plan = virtsim.load_sweep(ROOT / "experiments" / name)
    assert plan.replications >= 5 and plan.theory["response_time_mean_s"] > 0
    summary = virtsim.run_sweep(plan, executor="process", jobs=2).results.summary
    for metric, value in plan.theory.items():
        mean, half = confidence_interval(summary[metric])
        assert abs(mean - value) <= half, (metric, mean, half, value)
        assert half < 0.1 * value  # an interval narrow enough to say something


def test_the_theory_files_state_the_closed_form_they_promise():
    for name in THEORY_FILES:
        spec = virtsim.load_experiment(ROOT / "experiments" / name)
        w, cores = spec.workloads[0], spec.hosts[0].hardware.cores
        theory = virtsim.load_sweep(ROOT / "experiments" / name).theory
        assert theory["response_time_mean_s"] == pytest.approx(
            mmc_mean_response_s(w.arrivals.rate_per_s, w.demand.cpu.mean_s, cores), rel=1e-4)
        assert theory["cpu_utilization"] == pytest.approx(w.arrivals.rate_per_s * w.demand.cpu.mean_s / cores)
