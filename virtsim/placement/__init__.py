"""Placement: which host each VM or container lands on, and where VMs move to consolidate.

:mod:`.policies` holds the fits and the policies (first fit, best fit, spread,
Kubernetes' scoring): plain data in, a host per item out. The config layer
builds the items and the hosts' room from an experiment file's ``placement:``
section (``virtsim.config.pool``) and calls :func:`place`.

Dynamic consolidation (Beloglazov & Buyya, CCPE 2012), as plain functions:
:mod:`.overload` (is a host overloaded: THR, MAD, IQR, LR, LRR),
:mod:`.selection` (which VM leaves: MMT, MC, RS, MU), :mod:`.pabfd` (where it
goes, and which underloaded hosts empty) and :mod:`.consolidation` (one round
of all three). See ``docs/consolidation.md``.
"""

from .consolidation import Migration, Round, consolidation_round
from .overload import DETECTORS, Detection
from .pabfd import Evacuation, HostState, Placement, evacuate_underloaded, host_detector, pabfd
from .policies import POLICIES, Fit, Item, Room, place, register_policy
from .selection import SELECTIONS, VmRecord, vms_to_migrate

__all__ = [
    "DETECTORS", "Detection", "Evacuation", "Fit", "HostState", "Item", "Migration", "Placement", "POLICIES",
    "Room", "Round", "SELECTIONS", "VmRecord", "consolidation_round", "evacuate_underloaded", "host_detector",
    "pabfd", "place", "register_policy", "vms_to_migrate",
]
