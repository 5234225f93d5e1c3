"""Input keys of ``network``: the switches and links between the hosts, and how flows are routed.

Either a named shape (``topology: {kind: leaf-spine | fat-tree | star, ...}``)
whose host ports the experiment's hosts take in order, or explicit
``switches`` and ``links``. ``config.network`` resolves the section into a
``NetworkSpec``; ``model.network`` builds its graph and routes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .errors import format_value
from .fields import Name, choice, integer, number, quantity

__all__ = ["FatTreeInput", "LeafSpineInput", "LinkInput", "NetworkInput", "PortLinkInput", "RoutingInput",
           "StarInput", "TopologyInput"]

DEFAULT_BANDWIDTH = "10 Gbit/s"
"""The host links' rate when a topology gives none: that of the default NIC (models/devices/nic-10gbe.yaml)."""

_LATENCY = ("One-way latency of the link, e.g. '2 us'; default 0 s: a NIC's latency_us already holds the wire and "
            "one switch between two hosts, so 0 adds nothing to it.")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortLinkInput(_Input):
    """The rate and latency of a topology's links of one kind."""

    bandwidth: quantity("bandwidth", gt=0) = Field(
        default=DEFAULT_BANDWIDTH, validate_default=True, description="Line rate, e.g. '25 Gbit/s' (default "
                                                                      f"{DEFAULT_BANDWIDTH}).")
    latency: quantity("time", ge=0) = Field(default=0.0, description=_LATENCY)
    full_duplex: bool = Field(
        default=True, description="Each direction has the full bandwidth (default); false: both directions share it.")


class UplinkInput(_Input):
    """A leaf's links to the spines: any key left out follows the host links (the bandwidth: the oversubscription)."""

    bandwidth: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="Rate of one leaf–spine link; default: what 'oversubscription' gives.")
    latency: quantity("time", ge=0) | None = Field(default=None, description="Default: the host links' latency.")


class LeafSpineInput(_Input):
    """A two-tier Clos: every leaf (top-of-rack switch) linked to every spine, hosts under the leaves.

    Switches are named leaf1 …, spine1 …; host ports host1 … in leaf order
    (host1 … host<hosts_per_leaf> under leaf1).
    """

    kind: Literal["leaf-spine"] = Field(description="'leaf-spine'.")
    leaves: integer(ge=1) = Field(default=2, description="Leaf switches (default 2).")
    spines: integer(ge=1) = Field(default=2, description="Spine switches (default 2).")
    hosts_per_leaf: integer(ge=1) | None = Field(
        default=None, description="Host ports under each leaf; default: the fewest that hold the experiment's hosts.")
    link: PortLinkInput = Field(default_factory=PortLinkInput, description="The host links (host to leaf).")
    uplink: UplinkInput = Field(default_factory=UplinkInput, description="The leaf–spine links.")
    oversubscription: number(gt=0) | None = Field(
        default=None,
        description="A leaf's host-facing bandwidth (hosts_per_leaf × link.bandwidth) over its uplink bandwidth "
                    "(spines × uplink.bandwidth), e.g. 3 for 3:1; it sets uplink.bandwidth, so give one of the two. "
                    "Default 1 (non-blocking).")

    @model_validator(mode="after")
    def _one_uplink_rate(self):
        if self.oversubscription is not None and self.uplink.bandwidth is not None:
            raise ValueError("give 'oversubscription' or 'uplink.bandwidth', not both: one follows from the other")
        return self


def _even_k(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2 and value % 2:
        raise ValueError(f"must be an even integer ≥ 2 (a switch has k ports, half down, half up), got "
                         f"{format_value(value)}; {value - 1} or {value + 1}?")
    return value


class FatTreeInput(_Input):
    """The k-ary fat-tree of Al-Fares et al. (SIGCOMM 2008), every link of one rate.

    k pods of k/2 edge and k/2 aggregation switches (pod1-edge1, pod1-agg1 …),
    (k/2)² core switches (core1 …) and k³/4 host ports (host1 … in pod and
    edge order).
    """

    kind: Literal["fat-tree"] = Field(description="'fat-tree'.")
    k: Annotated[integer(ge=2), BeforeValidator(_even_k)] = Field(
        description="Ports per switch, even: k=4 gives 16 hosts, 20 switches and 48 links.")
    link: PortLinkInput = Field(default_factory=PortLinkInput, description="Every link.")


class StarInput(_Input):
    """One switch, 'switch', with a host port per host (host1 …)."""

    kind: Literal["star"] = Field(description="'star'.")
    hosts: integer(ge=1) | None = Field(default=None, description="Host ports; default: the experiment's hosts.")
    link: PortLinkInput = Field(default_factory=PortLinkInput, description="The host links.")


TopologyInput = Annotated[Union[LeafSpineInput, FatTreeInput, StarInput], Field(discriminator="kind")]
"""A named shape of network."""


class LinkInput(_Input):
    """A link between two hosts or switches."""

    a: Name = Field(description="One end: a host of the experiment or a switch.")
    b: Name = Field(description="The other end.")
    bandwidth: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="Line rate, e.g. '10 Gbit/s'; needed between two switches, default for a host's "
                                  "link: its NIC's line rate.")
    latency: quantity("time", ge=0) = Field(default=0.0, description=_LATENCY)
    full_duplex: bool = Field(
        default=True, description="Each direction has the full bandwidth (default); false: both directions share it.")


class RoutingInput(_Input):
    """How a flow's path is chosen."""

    method: choice("shortest-path") = Field(
        default="shortest-path", description="'shortest-path': fewest links, through switches only (hosts do not "
                                             "forward).")
    ecmp: bool = Field(
        default=False, description="Spread flows over the equal-cost shortest paths by a stable hash (CRC-32) of "
                                   "each flow's key; default false: every flow of a pair takes the first path in "
                                   "name order.")


class NetworkInput(_Input):
    """The network between the hosts: a named topology, or explicit switches and links.

    A host attaches through its NIC (its first, or the one ``nics`` names); a
    host link runs at the lower of its rate and the NIC's. Every pair of
    hosts must be joined through switches, but for those listed as isolated.
    """

    topology: TopologyInput | None = Field(
        default=None, description="A named shape: {kind: leaf-spine, leaves, spines, hosts_per_leaf, link, uplink, "
                                  "oversubscription}, {kind: fat-tree, k, link} or {kind: star, hosts, link}.")
    switches: list[Name] = Field(default_factory=list, description="Switch names, with 'links' (no topology).")
    links: list[LinkInput] = Field(default_factory=list, description="Links between hosts and switches (no topology).")
    attach: dict[Name, Name] = Field(
        default_factory=dict, description="With a topology: host → host port (host3, say); the other hosts take the "
                                          "free ports in order.")
    nics: dict[Name, Name] = Field(
        default_factory=dict, description="Host → the NIC it attaches through (default: its first).")
    isolated: list[Name] = Field(
        default_factory=list, description="Hosts that talk to no other host: they need no route (and with a "
                                          "topology take no port unless 'attach' gives one).")
    routing: RoutingInput = Field(default_factory=RoutingInput, description="How flows are routed.")

    @model_validator(mode="after")
    def _one_form(self):
        if self.topology is not None and (self.switches or self.links):
            raise ValueError("give a 'topology' or 'switches' and 'links', not both")
        if self.topology is None and not self.links:
            raise ValueError("give a 'topology' ({kind: leaf-spine | fat-tree | star, ...}) or 'links'")
        if self.topology is None and self.attach:
            raise ValueError("'attach' names a topology's host ports; with explicit links a host attaches by its links")
        return self
