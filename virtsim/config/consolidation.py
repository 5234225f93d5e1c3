"""Dynamic consolidation: the ``consolidation`` section (Beloglazov & Buyya, CCPE 24(13), 2012, §5).

A controller runs every ``interval``: it finds the overloaded hosts with the
``detector`` (§5.1), picks the VMs that leave them with ``selection`` (§5.2),
places them by power-aware best fit decreasing (``placement: pabfd``, §5.3),
evacuates underloaded hosts (``underload``, §5.4) and switches the hosts left
empty off (``switch_off``). The functions are :mod:`virtsim.placement`'s.
Without the section nothing is consolidated and every result is as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..placement.consolidation import DEFAULT_INTERVAL_S
from ..placement.overload import FALLBACK_THRESHOLD, SAFETY_DEFAULTS, THR_DEFAULT
from .fields import choice, number, quantity
from .resolution import Context
from .spec_base import FrozenSpec

__all__ = ["ConsolidationInput", "ConsolidationSpec", "DetectorInput", "DETECTOR_METHODS", "SELECTION_POLICIES",
           "resolve_consolidation"]

DETECTOR_METHODS = ("thr", "iqr", "mad", "lr", "lrr")
SELECTION_POLICIES = ("mmt", "mc", "rs", "mu")
_PARAMETERS = {"thr": ("threshold",), "iqr": ("safety", "fallback_threshold"), "mad": ("safety", "fallback_threshold"),
               "lr": ("safety", "fallback_threshold"), "lrr": ("safety", "fallback_threshold")}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorInput(_Input):
    """How a host is found overloaded (the paper §5.1)."""

    method: choice(*DETECTOR_METHODS) = Field(
        default="thr",
        description="'thr' (a static threshold, §5.1; the default), 'mad' or 'iqr' (adaptive thresholds "
                    "1 − s·MAD, 1 − s·IQR, §5.1.1–5.1.2), 'lr' or 'lrr' (local regression, plain and robust, "
                    "§5.1.3–5.1.4).")
    threshold: number(gt=0, le=1) | None = Field(
        default=None, description=f"thr only: the utilization above which a host is overloaded; default "
                                  f"{THR_DEFAULT:g} (the paper's THR-MMT-0.8).")
    safety: number(gt=0) | None = Field(
        default=None, description="mad, iqr, lr, lrr: the safety parameter s; default the paper's best "
                                  + ", ".join(f"{k} {v:g}" for k, v in SAFETY_DEFAULTS.items()) + ".")
    fallback_threshold: number(gt=0, le=1) | None = Field(
        default=None, description=f"mad, iqr, lr, lrr: the static threshold used while the history is too short; "
                                  f"default {FALLBACK_THRESHOLD:g} (CloudSim's).")

    @model_validator(mode="after")
    def _parameters_of_the_method(self):
        given = [k for k in ("threshold", "safety", "fallback_threshold") if getattr(self, k) is not None]
        wrong = [k for k in given if k not in _PARAMETERS[self.method]]
        if wrong:
            raise ValueError(f"{', '.join(repr(k) for k in wrong)} does not apply to method {self.method!r}; "
                             f"it takes {', '.join(repr(k) for k in _PARAMETERS[self.method])}")
        return self


class ConsolidationInput(_Input):
    """A controller that consolidates the VMs every interval (Beloglazov & Buyya 2012, §5)."""

    interval: quantity("time", gt=0) = Field(
        default=DEFAULT_INTERVAL_S,
        description="How often the controller runs; default 300 s, the PlanetLab traces' sampling interval of "
                    "the paper's §6.")
    detector: DetectorInput = Field(default_factory=DetectorInput,
                                    description="Overload detection (§5.1): a method and its parameters.")
    selection: choice(*SELECTION_POLICIES) = Field(
        default="mmt",
        description="Which VM leaves an overloaded host (§5.2): 'mmt' (minimum migration time, the default), "
                    "'mc' (maximum correlation), 'rs' (random), 'mu' (minimum utilization).")
    placement: choice("pabfd") = Field(
        default="pabfd", description="Where the VMs go: 'pabfd', power-aware best fit decreasing (§5.3).")
    underload: bool = Field(default=True, description="Evacuate underloaded hosts (§5.4).")
    switch_off: bool = Field(
        default=True, description="Switch hosts left empty off (they draw their power model's off_w) and on "
                                  "again when PABFD needs them.")


class ConsolidationSpec(FrozenSpec):
    """The controller's settings, resolved."""

    interval_s: float = DEFAULT_INTERVAL_S
    detector: Literal[DETECTOR_METHODS] = "thr"
    detector_parameters: dict[str, float] = Field(default_factory=dict)
    selection: Literal[SELECTION_POLICIES] = "mmt"
    placement: Literal["pabfd"] = "pabfd"
    underload: bool = True
    switch_off: bool = True


def resolve_consolidation(section: ConsolidationInput | None, hosts, duration_s: float | None,
                          ctx: Context) -> ConsolidationSpec | None:
    """The controller's spec; None without the section (nothing is consolidated)."""
    if section is None:
        return None
    from .migration import _why_not_from

    if duration_s is None:
        ctx.add(("consolidation",), "a consolidation controller runs every interval until the end of the run: "
                                    "give 'duration'")
    elif section.interval >= duration_s:
        ctx.add(("consolidation", "interval"), f"{section.interval:g} s is not shorter than the run "
                                               f"(duration {duration_s:g} s): the controller would never run")
    if len(hosts) < 2:
        ctx.add(("consolidation",), "consolidation moves VMs between hosts: give at least two hosts")
    for n, host in enumerate(hosts):
        _why_not_from(host, ("hosts", n), ctx, "consolidated")
    det = section.detector
    parameters = {k: float(getattr(det, k)) for k in ("threshold", "safety", "fallback_threshold")
                  if getattr(det, k) is not None}
    if det.method == "thr":
        parameters.setdefault("threshold", THR_DEFAULT)
    return ConsolidationSpec(interval_s=section.interval, detector=det.method, detector_parameters=parameters,
                             selection=section.selection, placement=section.placement,
                             underload=section.underload, switch_off=section.switch_off)
