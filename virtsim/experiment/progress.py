"""Progress bars: points of a sweep, scenarios being checked, and simulated time of a long single run.

Shown only on a terminal (standard error) and unless switched off. The
simulated-time bar is a SimPy process that wakes ``SIM_TIME_STEPS`` times over
the duration: it costs nothing per event and, as it changes no state, leaves
the results untouched.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm

__all__ = ["points_bar", "scenarios_bar", "show_progress", "simulated_time_bar"]

SIM_TIME_STEPS = 100


def show_progress(requested: bool = True, stream=None) -> bool:
    """True if a bar was asked for and the stream it goes to is a terminal."""
    stream = sys.stderr if stream is None else stream
    return requested and hasattr(stream, "isatty") and stream.isatty()


def points_bar(total: int, *, done: int = 0, enabled: bool, file=None) -> tqdm:
    """A bar over a sweep's points, starting at the ``done`` ones already on disk."""
    return tqdm(total=total, initial=done, unit="point", desc="sweep", disable=not enabled,
                file=file if file is not None else sys.stderr, dynamic_ncols=True)


@contextmanager
def scenarios_bar(*, enabled: bool | None = None, file=None):
    """A ``on_scenario(done, total)`` callback for ``load_sweep`` drawing a bar over the scenarios checked.

    ``enabled`` defaults to :func:`show_progress`; the bar appears only for a
    sweep (more than one scenario) and is closed when the block ends.
    """
    stream = file if file is not None else sys.stderr
    enabled = show_progress(stream=stream) if enabled is None else enabled
    bars: list[tqdm] = []

    def on_scenario(done: int, total: int) -> None:
        if not enabled or total < 2:
            return
        if not bars:
            bars.append(tqdm(total=total, unit="scenario", desc="checking", file=stream, dynamic_ncols=True))
        bars[0].update(done - bars[0].n)

    try:
        yield on_scenario
    finally:
        for bar in bars:
            bar.close()


@contextmanager
def simulated_time_bar(sim, *, enabled: bool, file=None):
    """Show ``sim``'s progress in simulated seconds while the block runs it."""
    duration_s = sim.spec.duration_s
    if not enabled or not duration_s:
        yield None
        return
    bar = tqdm(total=duration_s, unit="s", desc="simulated", file=file if file is not None else sys.stderr,
               dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.4g}/{total:.4g} s [{elapsed}<{remaining}]")
    env, step_s = sim.env, duration_s / SIM_TIME_STEPS

    def ticks():
        while True:
            yield env.timeout(step_s)
            bar.update(min(env.now, duration_s) - bar.n)

    env.process(ticks())
    try:
        yield bar
    finally:
        bar.close()
