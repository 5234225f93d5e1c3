"""A reused ``-o`` folder: what an earlier run wrote never lingers, a user's files are never deleted.

A run into a folder replaces what virtsim wrote there before (known by its
``manifest.json`` or ``sweep.json``): a single run after a sweep leaves no
``sweep.json`` or ``points/`` for ``read_results`` or ``virtsim plot`` to mix
in; a sweep keeps the points of its own plan, so it still resumes. A folder
holding other files is refused (exit 2) unless ``--force``, which leaves them.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import virtsim
from virtsim.cli import main
from virtsim.experiment.folder import PLOT_FILES, ForeignFiles

BASE = """\
name: reuse
seed: 3
duration: 40 s
warmup: 4 s
hosts:
  - {name: h, hardware: {cores: 2, core_speed: 1.0, memory: 4 GiB}}
workloads:
  - {name: w, target: h, type: open, arrivals: {type: poisson, rate: 1 /s}, demand: {cpu: 0.5 s}}
"""
SWEEP = BASE + "sweep:\n  workloads[0].arrivals.rate: [1 /s, 2 /s]\n"
SAMPLED = BASE + "sample_interval: 10 s\n"


def files(tmp_path, **texts):
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")


def run(*args):
    return CliRunner().invoke(main, ["run", *args, "--no-progress"])


def names(folder):
    return {p.name for p in folder.iterdir()}


def test_a_single_run_after_a_sweep_leaves_nothing_of_the_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files(tmp_path, sweep=SWEEP, single=BASE)
    assert run("sweep.yaml", "-o", "out").exit_code == 0
    assert {"sweep.json", "points", "scenarios.csv"} <= names(tmp_path / "out")
    (tmp_path / "out" / "heatmap.png").write_bytes(b"a picture of the sweep")  # as virtsim plot leaves it

    result = run("single.yaml", "-o", "out")
    assert result.exit_code == 0, result.output
    left = names(tmp_path / "out")
    assert not left & {"sweep.json", "points", "scenarios.csv", "heatmap.png"}
    read = virtsim.read_results(tmp_path / "out")
    assert isinstance(read, virtsim.Results) and len(read.summary) == 1 and "scenario" not in read.summary


def test_a_sweep_after_a_single_run_leaves_none_of_its_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files(tmp_path, sweep=SWEEP, single=SAMPLED)
    assert run("single.yaml", "-o", "out").exit_code == 0
    assert {"manifest.json", "jobs.csv", "timeseries.csv", "scaling.csv"} <= names(tmp_path / "out")
    assert run("sweep.yaml", "-o", "out").exit_code == 0
    assert not names(tmp_path / "out") & {"manifest.json", "jobs.csv", "timeseries.csv", "scaling.csv"}
    assert len(virtsim.read_results(tmp_path / "out").summary) == 2


def test_a_table_the_new_run_does_not_write_is_removed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files(tmp_path, sampled=SAMPLED, plain=BASE)
    assert run("sampled.yaml", "-o", "out").exit_code == 0
    assert run("plain.yaml", "-o", "out").exit_code == 0
    assert "timeseries.csv" not in names(tmp_path / "out")
    assert "timeseries" not in virtsim.read_results(tmp_path / "out").tables()


def test_a_folder_with_a_users_files_is_refused_before_the_run_and_kept_with_force(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files(tmp_path, single=BASE, sweep=SWEEP)
    assert run("sweep.yaml", "-o", "out").exit_code == 0
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    for command in (["single.yaml"], ["sweep.yaml"]):
        result = run(*command, "-o", "out")
        assert result.exit_code == 2
        assert "notes.txt" in result.stderr and "--force" in result.stderr and "Traceback" not in result.output
        assert "jobs completed" not in result.stdout  # refused before simulating
    assert "sweep.json" in names(tmp_path / "out")  # nothing was removed

    result = run("single.yaml", "-o", "out", "--force")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not names(tmp_path / "out") & {"sweep.json", "points"}


def test_a_folder_virtsim_did_not_write_is_never_emptied(tmp_path, monkeypatch):
    """Files under virtsim's names but without its manifest are someone else's: refused, then left alone."""
    monkeypatch.chdir(tmp_path)
    files(tmp_path, single=BASE)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.csv").write_text("my own summary\n", encoding="utf-8")
    (tmp_path / "out" / "heatmap.png").write_bytes(b"my picture")
    result = run("single.yaml", "-o", "out")
    assert result.exit_code == 2 and "summary.csv" in result.stderr
    assert run("single.yaml", "-o", "out", "--force").exit_code == 0
    assert (tmp_path / "out" / "heatmap.png").read_bytes() == b"my picture"  # not taken for virtsim's
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "data.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(ForeignFiles, match="data.csv"):  # the Python API refuses too
        virtsim.write_results(virtsim.read_results(tmp_path / "out"), tmp_path / "api")
    with pytest.raises(ForeignFiles, match="data.csv"):
        virtsim.run_sweep(virtsim.load_sweep(tmp_path / "single.yaml", overrides=[("replications", 2)]),
                          tmp_path / "api")
    assert names(tmp_path / "api") == {"data.csv"}


def test_resuming_the_same_sweep_keeps_its_points_and_another_sweep_drops_the_rest(tmp_path):
    files(tmp_path, sweep=SWEEP, other=SWEEP.replace("[1 /s, 2 /s]", "[2 /s, 3 /s]"))
    out = tmp_path / "out"
    first = virtsim.run_sweep(virtsim.load_sweep(tmp_path / "sweep.yaml"), out)
    keys = [p["key"] for p in json.loads((out / "sweep.json").read_text())["points"]]
    again = virtsim.run_sweep(virtsim.load_sweep(tmp_path / "sweep.yaml"), out)
    assert (again.already_done, again.ran) == (2, 0) and first.ran == 2
    other = virtsim.run_sweep(virtsim.load_sweep(tmp_path / "other.yaml"), out)
    assert (other.already_done, other.ran) == (1, 1)  # the shared 2 /s point is reused
    on_disk = {p.name for p in (out / "points").iterdir()}
    assert keys[0] not in on_disk and keys[1] in on_disk and len(on_disk) == 2


def test_the_plot_files_are_the_pictures_the_plot_command_draws():
    from virtsim.plots.report import PICTURES

    assert set(PLOT_FILES) == {f"{name}.png" for name in PICTURES}
