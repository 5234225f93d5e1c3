"""Resolve a distribution as written (a time, or a mapping with a ``type``) into its spec in seconds."""

from __future__ import annotations

from ..data.samples import load_samples_file
from . import workload_inputs as wi
from . import workload_spec as ws
from .resolution import Context

__all__ = ["resolve_distribution"]


def resolve_distribution(dist, loc: tuple, ctx: Context):
    """The spec of ``dist``; None (with the problem recorded) if its samples file cannot be read."""
    if isinstance(dist, wi.ConstantInput):
        return ws.ConstantDist(value_s=dist.value)
    if isinstance(dist, wi.ExponentialInput):
        return ws.ExponentialDist(mean_s=dist.mean)
    if isinstance(dist, wi.LognormalInput):
        return ws.LognormalDist(mean_s=dist.mean, sigma=dist.sigma)
    if dist.samples is not None:
        return ws.EmpiricalDist(samples_s=tuple(dist.samples))
    path = ctx.file(dist.path)
    samples = ctx.read((*loc, "path"), load_samples_file, path, shown=dist.path)
    if samples is None:
        return None
    return ws.EmpiricalDist(samples_s=samples, path=str(path.resolve()))
