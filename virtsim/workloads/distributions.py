"""Random variates for service demands and think times, drawn in batches.

Drawing one number at a time from a numpy ``Generator`` costs about a
microsecond; drawing blocks and handing them out one by one keeps the hot path
cheap while the sequence stays a pure function of the seed.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 4096


class Sampler:
    """Hands out variates of one distribution from one random stream."""

    def __init__(self, draw_block, constant: float | None = None):
        self._draw_block = draw_block
        self.constant = constant
        self._buffer: list[float] = []
        self._pos = 0

    def __call__(self) -> float:
        if self.constant is not None:
            return self.constant
        pos = self._pos
        if pos == len(self._buffer):
            self._buffer = self._draw_block().tolist()
            pos = 0
        self._pos = pos + 1
        return self._buffer[pos]


def make_sampler(spec, rng: np.random.Generator) -> Sampler:
    """A sampler for a resolved distribution spec (times in seconds)."""
    kind = spec.type
    if kind == "constant":
        return Sampler(None, constant=float(spec.value_s))
    if kind == "exponential":
        mean = spec.mean_s
        return Sampler(lambda: rng.exponential(mean, BLOCK))
    if kind == "lognormal":
        # `mean` is the distribution's mean: E[X] = exp(mu + sigma^2 / 2).
        sigma = spec.sigma
        mu = math.log(spec.mean_s) - sigma * sigma / 2.0
        return Sampler(lambda: rng.lognormal(mu, sigma, BLOCK))
    if kind == "empirical":
        samples = np.asarray(spec.samples_s, dtype=float)
        return Sampler(lambda: rng.choice(samples, BLOCK))
    raise ValueError(f"unknown distribution type {kind!r}")


def mean_of(spec) -> float:
    """The mean of a resolved distribution spec, in seconds."""
    kind = spec.type
    if kind == "constant":
        return float(spec.value_s)
    if kind in ("exponential", "lognormal"):
        return float(spec.mean_s)
    return float(np.mean(spec.samples_s))
