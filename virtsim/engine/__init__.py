"""The simulation engine: fluid fair sharing of rate resources on a SimPy clock.

Knows nothing of experiment files; see :mod:`virtsim.config` for those.
"""

from .fairshare import POLICIES, proportional, waterfill, waterfill_with_floors
from .sharing import COMPILED, Activity, RateResource, ShareNode

__all__ = [
    "COMPILED",
    "Activity",
    "POLICIES",
    "RateResource",
    "ShareNode",
    "proportional",
    "waterfill",
    "waterfill_with_floors",
]
