"""On/off and rate-curve arrivals against the theory of the processes they claim to be.

On/off: Poisson at ``rate`` while on, nothing while off, so arrivals in a total
on-time τ are Poisson(rate × τ). Curve: a non-homogeneous Poisson process, so the
count in [a, b) is Poisson(∫ₐᵇ rate), independently across intervals — checked
with a chi-square test over the phase of the period.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import virtsim
from virtsim.analysis import confidence_interval
from virtsim.config import ConfigError
from virtsim.workloads.arrivals import CurveGaps, OnOffGaps, RateCurve


def arrival_times(gaps, horizon_s: float) -> np.ndarray:
    times, t = [], 0.0
    while True:
        t += gaps()
        if t >= horizon_s:
            return np.array(times)
        times.append(t)


def test_on_off_arrivals_only_while_on_and_poisson_in_the_on_time():
    """Constant periods (1 s on, 2 s off): every arrival falls in an on-second; 10,000 s on at 5 /s."""
    rng = np.random.default_rng(1)
    times = arrival_times(OnOffGaps(rng, 5.0, lambda: 1.0, lambda: 2.0), 30_000.0)
    assert (np.mod(times, 3.0) < 1.0).all()
    assert abs(len(times) - 50_000) < 4 * math.sqrt(50_000)


def test_on_off_mean_rate_is_rate_times_the_on_fraction():
    """Exponential periods of means 2 s and 3 s at 10 /s: 4 arrivals per second in the long run."""
    counts = []
    for seed in range(100, 160):
        rng = np.random.default_rng(seed)
        on = lambda rng=rng: rng.exponential(2.0)
        off = lambda rng=rng: rng.exponential(3.0)
        counts.append(len(arrival_times(OnOffGaps(rng, 10.0, on, off), 5_000.0)) / 5_000.0)
    mean, half = confidence_interval(counts, 0.99)
    assert abs(mean - 4.0) <= half
    assert mean == pytest.approx(4.0, rel=0.03)


@pytest.mark.parametrize("interpolation", ["linear", "step"])
def test_curve_rate_by_time_of_day_matches_the_curve(interpolation):
    period = 100.0
    curve = RateCurve([0.0, 30.0, 60.0], [2.0, 10.0, 0.0], interpolation, period)
    times = arrival_times(CurveGaps(np.random.default_rng(7), curve), 400 * period)
    edges = np.linspace(0.0, period, 21)
    observed, _ = np.histogram(np.mod(times, period), edges)
    fine = np.linspace(0.0, period, 200_001)
    rates = np.array([curve(t) for t in fine[:-1]])
    per_bin = np.add.reduceat(rates * (fine[1] - fine[0]), np.searchsorted(fine[:-1], edges[:-1])) * 400
    assert observed.sum() == pytest.approx(per_bin.sum(), abs=4 * math.sqrt(per_bin.sum()))
    live = per_bin > 0
    assert observed[~live].sum() == 0  # no arrival where the rate is 0
    expected = per_bin[live] * observed.sum() / per_bin[live].sum()
    assert stats.chisquare(observed[live], expected).pvalue > 1e-3


def test_a_curve_that_ends_at_zero_sends_nothing_more():
    curve = RateCurve([0.0, 10.0], [5.0, 0.0], "step")
    gaps = CurveGaps(np.random.default_rng(3), curve)
    times = arrival_times(gaps, 1_000.0)
    assert times.max() < 10.0 and len(times) > 10
    assert gaps() == math.inf


def bursty(arrivals: dict, seed: int = 4) -> dict:
    return {
        "name": "bursty", "seed": seed, "duration": "600 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 4, "memory": "8 GiB"}}],
        "workloads": [{"name": "w", "target": "h", "type": "open", "arrivals": arrivals,
                       "demand": {"cpu": "10 ms"}}],
    }


def test_on_off_arrivals_from_an_experiment_file_are_deterministic_and_bursty():
    spec = {"type": "onoff", "rate": "20 /s", "on_period": "2 s", "off_period": "8 s"}
    first = virtsim.run_experiment(bursty(spec))
    second = virtsim.run_experiment(bursty(spec))
    arrivals = first.jobs["arrival_s"].to_numpy()
    assert (np.mod(arrivals, 10.0) < 2.0).all()
    assert len(arrivals) == pytest.approx(20 * 2 * 60, abs=4 * math.sqrt(2400))
    assert np.array_equal(arrivals, second.jobs["arrival_s"].to_numpy())
    other = virtsim.run_experiment(bursty(spec, seed=5)).jobs["arrival_s"].to_numpy()
    assert not np.array_equal(arrivals[:10], other[:10])


def test_a_diurnal_curve_from_an_experiment_file():
    points = [{"at": "0 s", "rate": "1 /s"}, {"at": "300 s", "rate": "9 /s"}]
    arrivals = virtsim.run_experiment(bursty({"type": "curve", "points": points, "interpolation": "step",
                                              "period": "600 s"})).jobs["arrival_s"].to_numpy()
    early, late = (arrivals < 300).sum(), (arrivals >= 300).sum()
    assert early == pytest.approx(300, abs=4 * math.sqrt(300))
    assert late == pytest.approx(2700, abs=4 * math.sqrt(2700))


@pytest.mark.parametrize("arrivals, message", [
    ({"type": "curve", "points": [{"at": "1 s", "rate": "1 /s"}]}, "the first point must be at 0 s, got 1 s"),
    ({"type": "curve", "points": [{"at": "0 s", "rate": "1 /s"}, {"at": "0 s", "rate": "2 /s"}]},
     "point times must increase"),
    ({"type": "curve", "points": [{"at": "0 s", "rate": "1 /s"}, {"at": "2 h", "rate": "2 /s"}], "period": "1 h"},
     "every point must be before the period"),
    ({"type": "curve", "points": [{"at": "0 s", "rate": "0 /s"}]}, "at least one point needs a rate > 0"),
    ({"type": "onoff", "rate": "1 /s", "on_period": "0 s", "off_period": "1 s"}, "an on-period must be > 0 s"),
    ({"type": "onoff", "rate": "1 /s", True: "1 s", False: "1 s"}, "write on_period and off_period"),
])
def test_bad_arrival_processes_are_reported_with_their_path(arrivals, message):
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(bursty(arrivals))
    assert "workloads[0].arrivals" in str(err.value) and message in str(err.value)
