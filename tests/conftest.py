"""Shared pytest set-up."""

import pytest

from virtsim.config.traces import TRACES_ENV, full_traces_dir
from virtsim.engine import sharing


def pytest_report_header(config):
    """Say which build of the sharing engine the run tests (compiled or plain Python)."""
    return f"virtsim sharing engine: {'compiled' if sharing.COMPILED else 'python'} ({sharing.implementation.__file__})"


@pytest.fixture
def full_traces():
    """The folder of the full traces (``$VIRTSIM_TRACES``); the test is skipped, saying why, without it."""
    folder = full_traces_dir()
    if folder is None:
        pytest.skip(f"needs the full traces: set {TRACES_ENV}=/path/to/traces (see experiments/data/README.md)")
    return folder
