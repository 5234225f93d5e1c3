"""The README's Python examples run as written, from the repository root.

Every fenced ```python block is executed verbatim in a fresh namespace, so the
documented API cannot drift from the code; new blocks are picked up
automatically.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


BLOCKS = python_blocks()


@pytest.fixture(scope="module")
def executed():
    """Runs each block once, on demand: block -> (its namespace, what it printed)."""
    done: dict[str, tuple[dict, str]] = {}

    def run(code: str) -> tuple[dict, str]:
        if code not in done:
            namespace: dict = {"__name__": "__readme__"}
            printed = io.StringIO()
            with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
                patch.chdir(ROOT)
                exec(compile(code, str(README), "exec"), namespace)
            done[code] = (namespace, printed.getvalue())
        return done[code]

    return run


def test_the_readme_has_its_python_examples():
    assert len(BLOCKS) >= 2
    assert any("run_experiment" in block for block in BLOCKS)
    assert any("ctx.spawn" in block for block in BLOCKS)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_readme_python_block_runs(code, executed):
    namespace, _ = executed(code)
    results = namespace.get("results")
    assert results is not None, "each example ends with a 'results' object"
    for table in ("summary", "workloads", "consumers", "jobs"):
        assert isinstance(getattr(results, table), pd.DataFrame)
    assert results.summary["jobs_completed"].iloc[0] > 0


def test_the_custom_workload_example_produces_checkout_jobs(executed):
    [code] = [block for block in BLOCKS if "def checkout(ctx)" in block]
    namespace, printed = executed(code)
    assert "checkout" in printed  # print(results.workloads)

    results = namespace["results"]
    workloads = results.workloads.set_index("workload")
    assert "checkout" in workloads.index
    checkout = workloads.loc["checkout"]
    assert checkout["jobs_completed"] > 0
    assert checkout["throughput_per_s"] == pytest.approx(5.0, rel=0.05)  # shoppers arrive at 5 /s

    jobs = results.jobs[results.jobs["workload"] == "checkout"]
    done = jobs.dropna(subset=["end_s"])
    assert set(jobs["target"].astype(str)) == {"h1/b/web"}
    # Each request asks 20 ms + 40 ms of CPU.
    assert done["cpu_demand_s"].to_numpy() == pytest.approx(0.060)
    # At best: 20 ms on one core, 5 ms asleep, 40 ms on the container's 1.5 cores.
    fastest = 0.020 + 0.005 + 0.040 / 1.5
    assert done["response_time_s"].min() >= fastest - 1e-9
    assert done["response_time_s"].min() == pytest.approx(fastest, rel=0.05)
