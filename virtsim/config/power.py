"""The schema of host power models and of the experiment's energy options.

A hardware profile may carry a ``power`` section: a ``linear`` model from the
idle to the full-load draw, or a SPECpower-style ``table`` of 11 readings at
0 %, 10 %, …, 100 % CPU utilization, interpolated linearly between them (as
CloudSim's ``PowerModelSpecPower`` does). Either may give ``off_w``, what the
machine draws switched off (standby), default 0 W. Each builds its plain
:mod:`virtsim.model.power` curve (``.curve``), the one formula the hosts'
meters and the results integrate.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..model.power import TABLE_POINTS, LinearCurve, TableCurve
from .fields import Currency, number

__all__ = ["EnergyInput", "LinearPower", "PowerModel", "TablePower"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinearPower(_Model):
    """Power grows linearly with CPU utilization u: ``idle_w + (max_w - idle_w) · u``."""

    model: Literal["linear"]
    idle_w: number(ge=0) = Field(description="Draw at 0 % utilization (active idle), watts.")
    max_w: number(gt=0) = Field(description="Draw at 100 % utilization, watts; at least idle_w.")
    off_w: number(ge=0) = Field(default=0.0, description="Draw when switched off (standby), watts; default 0.")

    @model_validator(mode="after")
    def _max_above_idle(self):
        if self.max_w < self.idle_w:
            raise ValueError(f"max_w ({self.max_w:g} W) must be at least idle_w ({self.idle_w:g} W)")
        return self

    @property
    def curve(self) -> LinearCurve:
        """The plain curve the simulator integrates."""
        return LinearCurve(idle_w=self.idle_w, max_w=self.max_w, off_w=self.off_w)


class TablePower(_Model):
    """SPECpower-style: the draw at 0 %, 10 %, …, 100 % utilization, linear in between."""

    model: Literal["table"]
    watts: list[number(ge=0)] = Field(
        min_length=TABLE_POINTS, max_length=TABLE_POINTS,
        description="Eleven draws in watts, at 0 % (active idle), 10 %, …, 100 % utilization.")
    off_w: number(ge=0) = Field(default=0.0, description="Draw when switched off (standby), watts; default 0.")

    @property
    def curve(self) -> TableCurve:
        """The plain curve the simulator integrates."""
        return TableCurve(readings_w=tuple(self.watts), off_w=self.off_w)


PowerModel = Annotated[Union[LinearPower, TablePower], Field(discriminator="model")]


class EnergyInput(_Model):
    """How hosts are powered and what an hour of one costs."""

    switch_off_empty: bool = Field(
        default=False,
        description="A host that is empty for the whole run (no VM or container on it after placement and no "
                    "workload aimed at it) is switched off: it draws its power model's off_w instead of its idle "
                    "draw, and costs nothing.")
    cost_per_host_hour: number(ge=0) | None = Field(
        default=None, description="Cost of one powered-on host for one hour, in currency, unless its hardware "
                                  "gives cost_per_hour; gives a cost per host and in total over the measured window.")
    currency: Currency = Field(
        default="USD",
        description="ISO 4217 code of cost_per_host_hour, the hardware's cost_per_hour and the cost columns "
                    "(the summary's currency column); default USD.")
