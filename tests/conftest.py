"""Shared pytest set-up: the engine build in the header, and Hypothesis profiles.

Profiles (``settings.load_profile`` runs here, before any test module is
imported, so every ``@settings(...)`` inherits from the loaded one):

* ``ci``: derandomized (each property draws the same examples on every run, so
  whether a change is caught never depends on luck), no example database, no
  deadline (shared CI machines are slow and uneven), failing examples printed
  with the blob that reproduces them. Loaded when the environment sets ``CI``
  (to anything but ``0``, ``false`` or ``no``), as CI services do.
* ``dev``: Hypothesis' defaults (random examples, a local database that replays
  past failures). Loaded otherwise.

``HYPOTHESIS_PROFILE=ci`` (or ``dev``) picks one explicitly. A test's own
``@settings(max_examples=...)`` still sets its number of examples under both.
"""

import os

import pytest
from hypothesis import settings

from virtsim.data.traces import TRACES_ENV, full_traces_dir
from virtsim.engine import sharing

# Both from Hypothesis' own defaults: it may have loaded a CI profile of its own on import.
_DEFAULTS = settings.get_profile("default")
settings.register_profile("ci", _DEFAULTS, derandomize=True, database=None, deadline=None, print_blob=True,
                          max_examples=100)
settings.register_profile("dev", _DEFAULTS)
_IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _IN_CI else "dev")
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_report_header(config):
    """Say which build of the sharing engine the run tests, and which Hypothesis profile."""
    engine = f"virtsim sharing engine: {'compiled' if sharing.COMPILED else 'python'} ({sharing.implementation.__file__})"
    return [engine, f"hypothesis profile: {HYPOTHESIS_PROFILE}"]


@pytest.fixture
def full_traces():
    """The folder of the full traces (``$VIRTSIM_TRACES``); the test is skipped, saying why, without it."""
    folder = full_traces_dir()
    if folder is None:
        pytest.skip(f"needs the full traces: set {TRACES_ENV}=/path/to/traces (see experiments/data/README.md)")
    return folder
