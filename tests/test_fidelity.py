"""virtsim fidelity: the calibration micro-benchmarks replayed on the default profiles."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from virtsim import fidelity
from virtsim.cli import main
from virtsim.fidelity import BY_ID, FAIL, GAP, PASS, PLAN, ROWS, run_fidelity, theory, within
from virtsim.fidelity.gaps import KNOWN_GAPS


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return run_fidelity().set_index("id", drop=False)


def _row_params():
    params = []
    for row in ROWS:
        marks = ()
        if row.id in KNOWN_GAPS:
            marks = pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[row.id])
        params.append(pytest.param(row.id, id=row.id, marks=marks))
    return params


@pytest.mark.parametrize("row_id", _row_params())
def test_published_row_is_reproduced(table, row_id):
    row = BY_ID[row_id]
    simulated = table.loc[row_id, "simulated"]
    assert within(row, simulated), (
        f"{row_id}: simulated {simulated:.6g} vs published {row.value:g} {row.unit} "
        f"(error {(simulated - row.value) / row.value:+.1%}, tolerance {row.tolerance:.0%})")
    assert table.loc[row_id, "status"] == PASS


def test_the_table_is_complete_and_consistent(table):
    assert list(table.columns[:11]) == ["id", "benchmark", "stack", "metric", "unit", "simulated", "published",
                                        "rel_error", "tolerance", "status", "source"]
    assert set(table["id"]) == set(BY_ID) and len(table) == len(ROWS)
    assert set(KNOWN_GAPS) <= set(BY_ID), "a known gap names no published row"
    assert set(BY_ID) == set(PLAN), "every published row needs a benchmark"
    assert not (table["status"] == FAIL).any(), table.loc[table["status"] == FAIL, ["simulated", "published"]]
    for row in ROWS:
        got = table.loc[row.id]
        assert got["source"].startswith(("calibration README §", "calibration type2-startup-migration.md §",
                                         "queueing theory: "))
        if got["status"] == GAP:
            assert row.id in KNOWN_GAPS and got["note"].startswith("known gap: ")
        else:
            assert math.isfinite(got["simulated"])


def test_known_gaps_explain_themselves():
    for row_id, reason in KNOWN_GAPS.items():
        assert len(reason) > 60, row_id
        assert "by design" in reason or "Fix:" in reason, f"{row_id}: say why it cannot be fixed, or how to fix it"


def test_bounds():
    fc = BY_ID["fc-cpu"]
    assert fc.bound == "min" and within(fc, 0.96) and not within(fc, 0.94)
    boot = BY_ID["fc-boot"]
    assert boot.bound == "max" and within(boot, 100) and not within(boot, 130)
    assert not within(BY_ID["felter-linpack-kvm"], math.nan)


def test_a_subset_runs_alone():
    sub = run_fidelity(ids=["xen-lmbench-syscall-native", "felter-linpack-docker"])
    assert list(sub["id"]) == ["xen-lmbench-syscall-native", "felter-linpack-docker"]
    assert (sub["status"] == PASS).all()


def test_cli_prints_the_table_and_writes_csv(table, tmp_path, monkeypatch):
    monkeypatch.setattr(fidelity, "run_fidelity", lambda: table.reset_index(drop=True))
    out = tmp_path / "fidelity.csv"
    result = CliRunner().invoke(main, ["fidelity", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["benchmark", "stack"]
    assert any("Linpack" in line and "PASS" in line for line in lines)
    assert any("GAP [" in line for line in lines) and "notes:" in result.output
    assert f"{len(table)} rows:" in result.output
    written = pd.read_csv(out)
    assert len(written) == len(table) and "source" in written.columns


def test_cli_exits_1_when_a_row_fails(table, monkeypatch):
    broken = table.reset_index(drop=True).copy()
    broken.loc[0, "status"] = FAIL
    monkeypatch.setattr(fidelity, "run_fidelity", lambda: broken)
    result = CliRunner().invoke(main, ["fidelity"])
    assert result.exit_code == 1 and "FAIL" in result.output


def test_theory_rows_are_the_closed_forms():
    values = {row.id: row.value for row in theory.ROWS}
    assert values["queue-mm1-fcfs-mean"] == pytest.approx(1 / (1000 - 700) * 1e3)
    assert values["queue-mm1-fcfs-p99"] == pytest.approx(math.log(100) / 300 * 1e3)
    assert values["queue-md1-fcfs-mean"] == pytest.approx(1 + 0.7 / (2 * 0.3))
    assert values["queue-md1-ps-mean"] == pytest.approx(1 / 0.3)
    assert values["queue-event-loop-saturation"] == pytest.approx(1000)
    assert set(values) <= set(BY_ID) and all(BY_ID[i].source.startswith("queueing theory: ") for i in values)


def test_theory_rows_tell_the_disciplines_apart(table):
    """Served by processor sharing, the FCFS rows whose answer depends on the discipline fail."""
    runner = fidelity.Runner()
    for row_id in ("queue-mm1-fcfs-p99", "queue-md1-fcfs-mean", "queue-event-loop-saturation"):
        row, exp, _ = theory.CASES[row_id]
        assert table.loc[row_id, "status"] == PASS
        simulated_ps = theory.simulate(runner, row_id, exp=_served_by_ps(exp))
        assert not within(row, simulated_ps), (row_id, simulated_ps, row.value)
    row, exp, _ = theory.CASES["queue-mm1-fcfs-mean"]  # M/M/1: the mean does not depend on the discipline
    assert within(row, theory.simulate(runner, "queue-mm1-fcfs-mean", exp=_served_by_ps(exp)))


def _served_by_ps(exp: dict) -> dict:
    """The same experiment with its workload served by processor sharing (no ``service``)."""
    return {**exp, "workloads": [{k: v for k, v in exp["workloads"][0].items() if k != "service"}]}
