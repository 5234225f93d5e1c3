"""The simulation engine: fluid fair sharing of rate resources on a SimPy clock.

Two sharing mechanisms: a hierarchical tree per resource (:mod:`.sharing`) and
flows that use several resources at once, max-min fair across them (:mod:`.flows`).

Knows nothing of experiment files; see :mod:`virtsim.config` for those.
"""

from .fairshare import POLICIES, proportional, waterfill, waterfill_with_floors
from .flows import Flow, FlowNetwork
from .sharing import COMPILED, Activity, RateResource, ShareNode

__all__ = [
    "COMPILED",
    "Activity",
    "Flow",
    "FlowNetwork",
    "POLICIES",
    "RateResource",
    "ShareNode",
    "proportional",
    "waterfill",
    "waterfill_with_floors",
]
