"""Host overload detection: is a host overloaded, from its CPU utilization history? Plain functions on numpy arrays.

The detectors of Beloglazov & Buyya, "Optimal online deterministic algorithms
and adaptive heuristics for energy and performance efficient dynamic
consolidation of virtual machines in Cloud data centers", CCPE 24(13), 2012
(below "the paper"), §5.1, with the semantics of CloudSim's power package
(``org.cloudbus.cloudsim.power``, the paper's own implementation):

* THR, a static threshold (the benchmark of the paper's §6 evaluation);
* MAD and IQR, adaptive thresholds 1 − s·MAD and 1 − s·IQR (§5.1.1, §5.1.2);
* LR and LRR, a prediction by local regression, plain and robust (§5.1.3, §5.1.4).

A history is a 1-D array of utilizations (0 to 1), oldest first; the current
utilization is its last value unless given. MAD and IQR need at least
:data:`MIN_HISTORY_DISPERSION` values and LR/LRR :data:`LR_WINDOW`; with fewer,
each falls back to THR at :data:`FALLBACK_THRESHOLD`, as CloudSim's policies
do. Every detector returns a :class:`Detection`: the decision, the threshold
and the value it compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DETECTORS", "Detection", "FALLBACK_THRESHOLD", "HISTORY_LENGTH", "LR_WINDOW", "MIN_HISTORY_DISPERSION",
    "THR_DEFAULT", "iqr", "iqr_overloaded", "local_regression", "lr_overloaded", "lrr_overloaded", "mad",
    "mad_overloaded", "thr_overloaded",
]

THR_DEFAULT = 0.8
"""THR's threshold: 0.8, the THR-MMT-0.8 configuration of the paper's §6 evaluation (it also runs 1.0)."""

FALLBACK_THRESHOLD = 0.7
"""The static threshold MAD, IQR, LR and LRR fall back on while the history is short (CloudSim's power
experiments build every adaptive policy with a static-threshold fallback of 0.7)."""

MIN_HISTORY_DISPERSION = 12
"""Values MAD and IQR need before they replace the fallback (CloudSim: "12 has been suggested as a safe value")."""

LR_WINDOW = 10
"""LR and LRR fit the last 10 observations (the paper §5.1.3; CloudSim: "responsive enough to latest values")."""

HISTORY_LENGTH = 30
"""Values a host's history keeps (CloudSim ``PowerVm.HISTORY_LENGTH``): the controller trims to it."""

SAFETY_DEFAULTS = {"mad": 2.5, "iqr": 1.5, "lr": 1.2, "lrr": 1.2}
"""The safety parameter s of each adaptive detector: the values of the paper's best configurations in its §6
evaluation (MAD-MMT-2.5, IQR-MMT-1.5, LR-MMT-1.2, LRR-MMT-1.2)."""


@dataclass(frozen=True, slots=True)
class Detection:
    """A detector's decision."""

    overloaded: bool
    threshold: float
    """The utilization above which the host counts as overloaded (LR/LRR: 1 / s, against the prediction)."""
    value: float
    """What was compared with the threshold: the current utilization (THR, MAD, IQR) or the predicted one."""
    method: str
    """Which rule decided: ``thr``, ``mad``, ``iqr``, ``lr``, ``lrr``, or ``thr-fallback``."""


def _history(history) -> np.ndarray:
    values = np.asarray(history, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"a utilization history is a 1-D series, got shape {values.shape}")
    return values


def _current(values: np.ndarray, current: float | None) -> float:
    if current is not None:
        return float(current)
    if values.size == 0:
        raise ValueError("an empty utilization history needs the current utilization (current=)")
    return float(values[-1])


def thr_overloaded(history, *, threshold: float = THR_DEFAULT, current: float | None = None,
                   method: str = "thr") -> Detection:
    """THR: overloaded when the current utilization exceeds a fixed threshold (strictly, as CloudSim's
    ``PowerVmAllocationPolicyMigrationStaticThreshold``). The paper's §6 evaluation benchmark."""
    value = _current(_history(history), current)
    return Detection(value > threshold, float(threshold), value, method)


def mad(values) -> float:
    """The median absolute deviation, median_i |X_i − median_j X_j| (the paper §5.1.1)."""
    values = _history(values)
    return float(np.median(np.abs(values - np.median(values))))


def iqr(values) -> float:
    """The interquartile range Q3 − Q1 (the paper §5.1.2), with CloudSim's quartiles.

    Q1 and Q3 are the order statistics of ranks round(0.25 (n + 1)) and
    round(0.75 (n + 1)) (1-based, halves rounded up, as Java's ``Math.round``
    in ``MathUtil.iqr``): no interpolation, unlike numpy's default percentile.
    """
    ordered = np.sort(_history(values))
    n = ordered.size
    if n == 0:
        raise ValueError("the IQR of an empty series is undefined")
    q1 = math.floor(0.25 * (n + 1) + 0.5) - 1
    q3 = math.floor(0.75 * (n + 1) + 0.5) - 1
    return float(ordered[min(q3, n - 1)] - ordered[max(q1, 0)])


def _adaptive(history, spread: Callable[[np.ndarray], float], name: str, safety: float, current: float | None,
              fallback_threshold: float, min_history: int) -> Detection:
    if safety < 0:
        raise ValueError(f"{name.upper()}'s safety parameter must be >= 0, got {safety!r}")
    values = _history(history)
    if values.size < min_history:
        return thr_overloaded(values, threshold=fallback_threshold, current=current, method="thr-fallback")
    threshold = 1.0 - safety * spread(values)
    value = _current(values, current)
    return Detection(value > threshold, threshold, value, name)


def mad_overloaded(history, *, safety: float = SAFETY_DEFAULTS["mad"], current: float | None = None,
                   fallback_threshold: float = FALLBACK_THRESHOLD,
                   min_history: int = MIN_HISTORY_DISPERSION) -> Detection:
    """MAD: overloaded when the current utilization exceeds T_u = 1 − s·MAD of the history (the paper §5.1.1).

    With fewer than ``min_history`` values, THR at ``fallback_threshold``.
    """
    return _adaptive(history, mad, "mad", safety, current, fallback_threshold, min_history)


def iqr_overloaded(history, *, safety: float = SAFETY_DEFAULTS["iqr"], current: float | None = None,
                   fallback_threshold: float = FALLBACK_THRESHOLD,
                   min_history: int = MIN_HISTORY_DISPERSION) -> Detection:
    """IQR: overloaded when the current utilization exceeds T_u = 1 − s·IQR of the history (the paper §5.1.2).

    With fewer than ``min_history`` values, THR at ``fallback_threshold``.
    """
    return _adaptive(history, iqr, "iqr", safety, current, fallback_threshold, min_history)


def tricube_weights(k: int) -> np.ndarray:
    """Tricube weights T(u) = (1 − |u|³)³ of observations x = 1..k, fitted at the newest, x_k (the paper §5.1.3).

    u_i = (x_k − x_i) / (x_k − x_1): the newest observation weighs 1, the
    oldest 0. (CloudSim and OpenStack Neat give the two oldest the weight of
    the third, so that none is zero; here the definition holds as written.)
    """
    if k < 3:
        raise ValueError(f"a local regression needs at least 3 observations, got {k}")
    u = (k - np.arange(1, k + 1)) / (k - 1)
    return (1 - np.abs(u) ** 3) ** 3


def _weighted_line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float] | None:
    """(intercept, slope) minimizing Σ w (y − a − b x)²; None when the weights leave no line."""
    total = w.sum()
    if total <= 0:
        return None
    xm = (w * x).sum() / total
    ym = (w * y).sum() / total
    spread = (w * (x - xm) ** 2).sum()
    if spread <= 0:
        return None
    slope = (w * (x - xm) * (y - ym)).sum() / spread
    return float(ym - slope * xm), float(slope)


def local_regression(values, *, robust_iterations: int = 0) -> tuple[float, float]:
    """The Loess line through ``values`` at x = 1..k, fitted at the newest: (intercept, slope).

    Weighted least squares with :func:`tricube_weights` (Cleveland 1979, the
    paper §5.1.3). With ``robust_iterations`` > 0, each iteration reweights by
    the bisquare B(u) = (1 − u²)² for |u| < 1 (0 beyond) of the residual over 6
    times the median absolute residual, times the tricube weights, and fits
    again (the paper §5.1.4; CloudSim runs one iteration, Cleveland suggests
    two). A fit that leaves (almost) no residual is already robust: the
    iterations stop there; a reweighting that leaves no line keeps the fit before.
    """
    y = _history(values)
    k = y.size
    x = np.arange(1, k + 1, dtype=float)
    tricube = tricube_weights(k)
    fit = _weighted_line(x, y, tricube)
    if fit is None:  # cannot happen with k >= 3 tricube weights; kept as a guard
        raise ValueError("local regression: the weights leave no line")
    scale = max(1.0, float(np.max(np.abs(y))))
    for _ in range(robust_iterations):
        residuals = y - (fit[0] + fit[1] * x)
        s = float(np.median(np.abs(residuals)))
        if s <= 1e-12 * scale:
            break
        u = residuals / (6 * s)
        bisquare = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
        refit = _weighted_line(x, y, tricube * bisquare)
        if refit is None:
            break
        fit = refit
    return fit


def steps_ahead(migration_time_s: float, interval_s: float) -> int:
    """How many intervals ahead LR/LRR predict: ceil(migration time / interval), at least the next value.

    CloudSim predicts the utilization at the end of the longest migration off
    the host, ``ceil(max migration time / scheduling interval)`` intervals after
    the newest value; that is at least 1 whenever the host holds a VM.
    """
    if interval_s <= 0:
        raise ValueError(f"the consolidation interval must be > 0 s, got {interval_s!r}")
    return max(1, math.ceil(migration_time_s / interval_s))


def _regression(history, name: str, robust_iterations: int, safety: float, migration_time_s: float,
                interval_s: float, window: int, current: float | None, fallback_threshold: float) -> Detection:
    if safety <= 0:
        raise ValueError(f"{name.upper()}'s safety parameter must be > 0, got {safety!r}")
    values = _history(history)
    if values.size < window:
        return thr_overloaded(values, threshold=fallback_threshold, current=current, method="thr-fallback")
    intercept, slope = local_regression(values[-window:], robust_iterations=robust_iterations)
    predicted = intercept + slope * (window + steps_ahead(migration_time_s, interval_s))
    return Detection(safety * predicted >= 1.0, 1.0 / safety, predicted, name)


def lr_overloaded(history, *, safety: float = SAFETY_DEFAULTS["lr"], migration_time_s: float = 0.0,
                  interval_s: float = 300.0, window: int = LR_WINDOW, current: float | None = None,
                  fallback_threshold: float = FALLBACK_THRESHOLD) -> Detection:
    """LR: overloaded when s·û ≥ 1, û the Loess prediction from the last ``window`` values (the paper §5.1.3).

    û is the line of :func:`local_regression` at x = window + :func:`steps_ahead`
    (the next value, or the end of the longest migration off the host). With
    fewer than ``window`` values, THR at ``fallback_threshold`` on ``current``.
    """
    return _regression(history, "lr", 0, safety, migration_time_s, interval_s, window, current, fallback_threshold)


def lrr_overloaded(history, *, safety: float = SAFETY_DEFAULTS["lrr"], migration_time_s: float = 0.0,
                   interval_s: float = 300.0, window: int = LR_WINDOW, robust_iterations: int = 1,
                   current: float | None = None, fallback_threshold: float = FALLBACK_THRESHOLD) -> Detection:
    """LRR: LR with the bisquare robustness iterations of :func:`local_regression` (the paper §5.1.4)."""
    return _regression(history, "lrr", robust_iterations, safety, migration_time_s, interval_s, window, current,
                       fallback_threshold)


DETECTORS: dict[str, Callable[..., Detection]] = {
    "thr": thr_overloaded, "mad": mad_overloaded, "iqr": iqr_overloaded, "lr": lr_overloaded, "lrr": lrr_overloaded,
}
"""The detectors by name, each ``(history, **parameters) -> Detection``."""
