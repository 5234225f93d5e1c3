"""Arrival processes as gap generators: each call returns the time to the next arrival.

Used by the built-in open loop (YAML ``arrivals``) and by the generator helpers
of :mod:`virtsim.workloads.library` alike. A generator keeps its own clock (the
sum of the gaps it handed out), so it must be called once per arrival, in order.

Time-varying Poisson processes are drawn exactly, not per time slice: on/off by
restarting the memoryless clock at each on-period, a rate curve by thinning
(Lewis & Shedler 1979): candidates at the curve's peak rate, each kept with
probability rate(t) / peak.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

import numpy as np

from .distributions import BLOCK, Sampler

__all__ = ["CurveGaps", "OnOffGaps", "PoissonGaps", "RateCurve"]


def _unit_exponentials(rng: np.random.Generator) -> Sampler:
    return Sampler(lambda: rng.exponential(1.0, BLOCK))


class PoissonGaps:
    """Exponential gaps of mean ``1 / rate_per_s``."""

    def __init__(self, rng: np.random.Generator, rate_per_s: float):
        if not rate_per_s > 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s!r}")
        self._mean_s = 1.0 / rate_per_s
        self._exp = _unit_exponentials(rng)

    def __call__(self) -> float:
        return self._exp() * self._mean_s


class OnOffGaps:
    """Poisson at ``rate_per_s`` during on-periods, none during off-periods; time 0 starts an on-period.

    ``on`` and ``off`` return period lengths in seconds.
    """

    def __init__(self, rng: np.random.Generator, rate_per_s: float, on: Callable[[], float],
                 off: Callable[[], float]):
        self._poisson = PoissonGaps(rng, rate_per_s)
        self._on = on
        self._off = off
        self._t = 0.0
        self._on_end = on()

    def __call__(self) -> float:
        t = self._t
        while True:
            candidate = t + self._poisson()
            if candidate < self._on_end:
                break
            # Memoryless: the next on-period starts a fresh exponential clock.
            t = self._on_end + self._off()
            self._on_end = t + self._on()
        gap = candidate - self._t
        self._t = candidate
        return gap


class RateCurve:
    """A rate over time through points, linear or stepwise, optionally repeating with ``period_s``."""

    def __init__(self, times_s: Sequence[float], rates_per_s: Sequence[float], interpolation: str = "linear",
                 period_s: float | None = None):
        if len(times_s) != len(rates_per_s) or not times_s or times_s[0] != 0:
            raise ValueError("need one rate per time, times from 0")
        if any(b <= a for a, b in zip(times_s, times_s[1:])):
            raise ValueError("times must increase")
        if period_s is not None and times_s[-1] >= period_s:
            raise ValueError("every point must lie before the period")
        if interpolation not in ("linear", "step"):
            raise ValueError(f"interpolation must be 'linear' or 'step', got {interpolation!r}")
        if min(rates_per_s) < 0 or not max(rates_per_s) > 0:
            raise ValueError("rates must be ≥ 0 and one > 0")
        self.times_s = [float(t) for t in times_s]
        self.rates_per_s = [float(r) for r in rates_per_s]
        self.linear = interpolation == "linear"
        self.period_s = period_s
        self.peak_per_s = max(self.rates_per_s)

    def __call__(self, t: float) -> float:
        """The rate at time ``t`` (seconds), per second."""
        times, rates = self.times_s, self.rates_per_s
        if self.period_s is not None:
            t = math.fmod(t, self.period_s)
        i = bisect_right(times, t) - 1
        if not self.linear:
            return rates[i]
        if i + 1 < len(times):
            t1, r1 = times[i + 1], rates[i + 1]
        elif self.period_s is not None:
            t1, r1 = self.period_s, rates[0]  # wrap to the first point of the next period
        else:
            return rates[i]
        return rates[i] + (r1 - rates[i]) * (t - times[i]) / (t1 - times[i])

    def ends_silent(self) -> bool:
        """True when, without a period, no arrival can come after the last point."""
        return self.period_s is None and self.rates_per_s[-1] == 0.0


class CurveGaps:
    """A Poisson process with rate ``curve(t)``, by thinning; ``inf`` once the curve has ended at rate 0."""

    def __init__(self, rng: np.random.Generator, curve: RateCurve):
        self._curve = curve
        self._candidate = PoissonGaps(rng, curve.peak_per_s)
        self._uniform = Sampler(lambda: rng.random(BLOCK))
        self._t = 0.0
        self._silent_after = curve.times_s[-1] if curve.ends_silent() else math.inf

    def __call__(self) -> float:
        curve, peak = self._curve, self._curve.peak_per_s
        t = self._t
        while True:
            t += self._candidate()
            if t >= self._silent_after:
                self._t = math.inf  # and so on every later call
                return math.inf
            if self._uniform() * peak < curve(t):
                break
        gap = t - self._t
        self._t = t
        return gap
