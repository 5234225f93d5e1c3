"""``virtsim plot DIR``: every picture a result folder allows, and why the others are skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

from virtsim.cli import main  # noqa: E402
from virtsim.plots.folder import NotAResultFolder, read_result_folder  # noqa: E402
from virtsim.plots.report import PICTURES, plot_folder  # noqa: E402

EXPERIMENT = """\
name: plotted
seed: 2
duration: 120 s
warmup: 20 s
sample_interval: 20 s
hosts:
  - name: h1
    hardware: server-2s-32c
    hypervisor: kvm
    vms:
      - {name: vm, vcpus: 4, memory: 8 GiB, engine: docker, containers: [{name: web, cpus: 2, network: nat}]}
workloads:
  - name: web
    target: h1/vm/web
    type: open
    arrivals: {type: poisson, rate: 5 /s}
    demand: {cpu: {type: exponential, mean: 100 ms}, syscalls: 20, net: {transactions: 1}}
"""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result_folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("run")
    (base / "plotted.yaml").write_text(EXPERIMENT, encoding="utf-8")
    out = base / "results"
    run = CliRunner().invoke(main, ["run", str(base / "plotted.yaml"), "-o", str(out)])
    assert run.exit_code == 0, run.output
    return out


def test_plot_writes_the_pictures_a_run_allows(result_folder, tmp_path):
    result = CliRunner().invoke(main, ["plot", str(result_folder), "-o", str(tmp_path / "pics")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "pics").iterdir())
    assert written == ["breakdown.png", "stack-diagram.png", "utilization.png"]
    for name in written:
        assert (tmp_path / "pics" / name).read_bytes()[:8] == PNG
        assert f"wrote {tmp_path / 'pics' / name}" in result.output
    assert "skipped energy-by-policy: not a placement study" in result.output
    # A single run has no load levels: said, not failed.
    assert "skipped response-vs-load: needs a summary with a numeric swept column" in result.output
    assert "skipped heatmap: needs a summary over two swept columns" in result.output


def test_without_a_time_series_the_utilization_picture_is_skipped_with_the_remedy(result_folder, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in result_folder.iterdir():
        if file.name != "timeseries.csv":
            (copy / file.name).write_bytes(file.read_bytes())
    pictures = {p.name: p for p in plot_folder(copy)}
    assert pictures["utilization"].path is None
    assert "sample_interval" in pictures["utilization"].reason
    assert pictures["stack-diagram"].path == copy / "stack-diagram.png"  # default: into the folder itself


def test_a_sweep_summary_gets_the_load_and_heatmap_pictures(result_folder, tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "manifest.json").write_text((result_folder / "manifest.json").read_text())
    rows = [{"workloads[0].arrivals.rate": rate, "hosts[0].vms[0].vcpus": vcpus,
             "response_time_mean_s": 0.1 * rate / vcpus} for rate in (1.0, 2.0, 4.0) for vcpus in (2, 4)]
    pd.DataFrame(rows).to_csv(sweep / "summary.csv", index=False)
    pictures = {p.name: p for p in plot_folder(sweep)}
    assert pictures["response-vs-load"].path is not None
    assert pictures["heatmap"].path is not None
    assert pictures["breakdown"].path is None and "stacks.csv" in pictures["breakdown"].reason


def test_read_result_folder_reads_the_tables_and_config(result_folder):
    result = read_result_folder(result_folder)
    assert set(result.tables) == {"summary", "workloads", "stacks", "consumers", "jobs", "timeseries"}
    assert result.config["name"] == "plotted"
    assert result.config == json.loads((result_folder / "manifest.json").read_text())["config"]


def test_a_folder_that_is_not_a_result_folder_is_a_clear_error(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["plot", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "not a folder" in missing.output
    empty = runner.invoke(main, ["plot", str(tmp_path)])
    assert empty.exit_code == 2
    assert f"{tmp_path}: not a result folder (no manifest.json)" in empty.output
    assert "Traceback" not in empty.output
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(NotAResultFolder, match="not a readable manifest"):
        read_result_folder(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(NotAResultFolder, match="no summary.csv"):
        read_result_folder(tmp_path)


def test_a_sweep_folder_gets_the_load_curve_and_the_heatmap(tmp_path):
    import yaml

    experiment = {
        "name": "swept", "seed": 2, "duration": "120 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 2, "memory": "8 GiB"}}],
        "workloads": [{"name": "web", "target": "h", "type": "open", "arrivals": {"type": "poisson", "rate": "1 /s"},
                       "demand": {"cpu": {"type": "exponential", "mean": "0.5 s"}}}],
        "sweep": {"hosts[0].hardware.cores": [1, 2], "workloads[0].arrivals.rate": [0.5, 1.0, 1.5]},
    }
    path = tmp_path / "swept.yaml"
    path.write_text(yaml.safe_dump(experiment))
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "virtsim.cli", "run", str(path), "-o", str(out), "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    drawn = subprocess.run([sys.executable, "-m", "virtsim.cli", "plot", str(out), "-o", str(tmp_path / "png")],
                           capture_output=True, text=True)
    assert drawn.returncode == 0, drawn.stderr
    assert {p.name for p in (tmp_path / "png").iterdir()} >= {"stack-diagram.png", "response-vs-load.png",
                                                              "heatmap.png"}


SWEEP = """\
name: swept-twice
seed: 5
duration: 60 s
warmup: 10 s
cold_start: false
replications: 2
hosts:
  - name: h1
    hardware: {cores: 2, memory: 8 GiB}
    hypervisor: kvm
    vms:
      - {name: web, vcpus: 1, memory: 2 GiB}
      - {name: batch, vcpus: 2, memory: 2 GiB}
workloads:
  - {name: web, target: h1/web, type: open, arrivals: {type: poisson, rate: 2 /s},
     demand: {cpu: {type: exponential, mean: 100 ms}}}
  - {name: batch, target: h1/batch, type: closed, clients: 1, demand: {cpu: {type: exponential, mean: 2 s}}}
sweep:
  workloads[1].clients: [1, 2, 4]
"""


def run_into(tmp_path_factory, name: str, text: str) -> Path:
    base = tmp_path_factory.mktemp(name)
    (base / f"{name}.yaml").write_text(text, encoding="utf-8")
    run = CliRunner().invoke(main, ["run", str(base / f"{name}.yaml"), "-o", str(base / "out"), "--no-progress"])
    assert run.exit_code == 0, run.output
    return base / "out"


@pytest.fixture(scope="module")
def replicated_sweep(tmp_path_factory) -> Path:
    return run_into(tmp_path_factory, "swept", SWEEP)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def draw(folder: Path, picture: str):
    return PICTURES[picture](read_result_folder(folder), None)


def test_a_replicated_sweep_gets_error_bars_and_a_breakdown_per_scenario(replicated_sweep, tmp_path):
    result = CliRunner().invoke(main, ["plot", str(replicated_sweep), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {"breakdown-by-scenario.png", "response-vs-load.png", "stack-diagram.png"} <= \
        {p.name for p in tmp_path.iterdir()}
    assert "skipped breakdown: a sweep: its breakdown is drawn per scenario" in result.output
    scenarios = pd.read_csv(replicated_sweep / "scenarios.csv")
    curve = draw(replicated_sweep, "response-vs-load")
    lines = [c for c in curve.containers if isinstance(c, ErrorbarContainer)]
    workloads = list(dict.fromkeys(scenarios["workload"]))
    assert len(lines) == len(workloads) == 2  # one line per workload: web and batch are never pooled
    for bars, workload in zip(lines, workloads):
        segments = bars.lines[2][0].get_segments()
        halves = [(seg[1][1] - seg[0][1]) / 2 for seg in segments]
        mine = scenarios[scenarios["workload"] == workload]
        assert halves == pytest.approx(mine["response_time_mean_s_ci95"].tolist())  # the CIs of scenarios.csv
    panels = draw(replicated_sweep, "breakdown-by-scenario").figure.axes
    assert [a.get_title() for a in panels] == [f"Where the response time of {w} went, per scenario"
                                               for w in ("web", "batch")]
    for panel in panels:  # one bar per scenario, an interval on each
        parts = [c for c in panel.containers if isinstance(c, BarContainer)]
        assert parts and all(len(bars) == scenarios["scenario"].nunique() for bars in parts)
        assert [c for c in panel.containers if isinstance(c, ErrorbarContainer)]
        assert [t.get_text() for t in panel.get_yticklabels()] == ["1", "2", "4"]


PLACEMENT = """\
name: packed
seed: 7
duration: 60 s
warmup: 10 s
hosts:
  - {name: h1, hardware: hp-ml110-g5, hypervisor: kvm}
  - {name: h2, hardware: hp-ml110-g5, hypervisor: kvm}
  - {name: h3, hardware: hp-ml110-g5, hypervisor: kvm}
placement:
  policy: best-fit
  vms:
    - {name: a, vcpus: 1, memory: 1 GiB}
    - {name: b, vcpus: 1, memory: 1 GiB}
energy: {switch_off_empty: true}
workloads:
  - {name: users, target: a, type: open, arrivals: {type: poisson, rate: 4 /s}, demand: {cpu: 0.05 s}}
"""


def test_a_placement_run_gets_its_energy_chart(tmp_path_factory, tmp_path):
    single = run_into(tmp_path_factory, "packed", PLACEMENT)
    pictures = {p.name: p for p in plot_folder(single, tmp_path)}
    assert pictures["energy-by-policy"].path == tmp_path / "energy-by-policy.png"
    chart = draw(single, "energy-by-policy")
    assert [t.get_text() for t in chart.get_xticklabels()] == ["best-fit"]
    swept = run_into(tmp_path_factory, "policies",
                     PLACEMENT + "replications: 2\nsweep:\n  placement.policy: [best-fit, spread]\n")
    chart = draw(swept, "energy-by-policy")
    assert [t.get_text() for t in chart.get_xticklabels()] == ["best-fit", "spread"]
    [energy] = [c for c in chart.containers if isinstance(c, BarContainer)]
    summary = pd.read_csv(swept / "summary.csv")
    assert [r.get_height() for r in energy] == pytest.approx(
        summary.groupby("placement.policy", sort=False)["energy_j"].mean().tolist())
    hosts = [c for a in chart.figure.axes if a is not chart for c in a.containers if isinstance(c, BarContainer)]
    assert [r.get_height() for r in hosts[0]] == [1, 2]  # best fit packs both VMs, spread uses two hosts
