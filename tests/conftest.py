"""Shared pytest set-up."""

from virtsim.engine import sharing


def pytest_report_header(config):
    """Say which build of the sharing engine the run tests (compiled or plain Python)."""
    return f"virtsim sharing engine: {'compiled' if sharing.COMPILED else 'python'} ({sharing.implementation.__file__})"
