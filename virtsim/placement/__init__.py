"""Placement: which host each VM or container lands on.

:mod:`.policies` holds the fits and the policies (first fit, best fit, spread,
Kubernetes' scoring): plain data in, a host per item out. The config layer
builds the items and the hosts' room from an experiment file's ``placement:``
section (``virtsim.config.pool``) and calls :func:`place`.
"""

from .policies import POLICIES, Fit, Item, Room, place, register_policy

__all__ = ["POLICIES", "Fit", "Item", "Room", "place", "register_policy"]
