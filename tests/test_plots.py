"""The plot functions draw what their data say, on the Axes they are given.

Each is fed a small table whose picture is known (so many lines, bars,
cells) and a table missing a column (a ValueError naming it). The stack
diagram is drawn for every shipped experiment file.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

import virtsim  # noqa: E402
from virtsim import plots  # noqa: E402
from virtsim.analysis.stats import confidence_interval  # noqa: E402
from virtsim.config import dump_resolved  # noqa: E402
from virtsim.model.topology import walk_vms  # noqa: E402
from virtsim.plots.diagram import _PAD as PAD  # noqa: E402
from virtsim.plots.diagram import MAX_COLUMNS, MAX_GROUPS, _apps_by_target  # noqa: E402
from virtsim.plots.diagram_groups import group_hosts  # noqa: E402

ROOT = Path(__file__).parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("**/*.yaml"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    _, axes = plt.subplots()
    return axes


def test_the_public_functions():
    assert virtsim.plots is plots
    assert set(plots.__all__) == {"response_time_vs_load", "utilization_over_time", "time_breakdown",
                                  "sweep_heatmap", "stack_diagram", "scenario_breakdown", "energy_by_policy",
                                  "plot_topology"}


# --- response time vs load -------------------------------------------------------------

LOADS = pd.DataFrame({
    "rate": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 3.0],
    "stack": ["kvm", "kvm", "kvm", "docker", "docker", "docker", "docker"],
    "response_time_mean_s": [1.0, 2.0, 4.0, 0.5, 1.0, 1.0, 3.0],
})


def test_one_line_per_stack_with_replications_averaged(ax):
    assert plots.response_time_vs_load(LOADS, "rate", ax=ax) is ax
    assert [line.get_label() for line in ax.lines] == ["kvm", "docker"]
    kvm, docker = ax.lines
    assert list(kvm.get_xdata()) == [1.0, 2.0, 3.0] and list(kvm.get_ydata()) == [1.0, 2.0, 4.0]
    assert list(docker.get_ydata()) == [0.5, 1.0, 2.0]  # the two rows at rate 3 averaged
    assert not ax.containers  # no CI columns: no error bars


def test_error_bars_from_the_ci_columns(ax):
    table = LOADS.assign(response_time_mean_s_ci95_low=LOADS["response_time_mean_s"] - 0.1,
                         response_time_mean_s_ci95_high=LOADS["response_time_mean_s"] + 0.2)
    plots.response_time_vs_load(table, "rate", ax=ax)
    assert len(ax.containers) == 2  # one errorbar per stack
    bars = ax.containers[0].lines[2][0].get_segments()
    assert [y for seg in bars for y in (seg[0][1], seg[1][1])] == pytest.approx([0.9, 1.2, 1.9, 2.2, 3.9, 4.2])


def test_without_a_stack_column_one_line(ax):
    plots.response_time_vs_load(LOADS.drop(columns="stack"), "rate", stack=None, ax=ax)
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == 3


def test_response_time_vs_load_names_the_missing_columns():
    with pytest.raises(ValueError, match=r"needs the column\(s\) load, stack"):
        plots.response_time_vs_load(LOADS[["response_time_mean_s"]], "load")


# --- utilization over time -------------------------------------------------------------

def series() -> pd.DataFrame:
    rows = []
    for k in range(3):
        for consumer, kind, util in (("h1", "host", 0.5), ("h1/a", "vm", 0.25 * k), ("h1/a.vmm", "layer", 0.01)):
            rows.append({"start_s": 10.0 * k, "time_s": 10.0 * (k + 1), "consumer": consumer, "kind": kind,
                         "cpu_utilization": util, "steal_fraction": 0.1 * k})
    return pd.DataFrame(rows)


def test_a_step_per_interval_for_utilization_and_steal(ax):
    plots.utilization_over_time(series(), ax=ax)
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert [s.get_label() for s in steps] == ["h1", "h1 steal", "h1/a", "h1/a steal"]  # not the layer
    values, edges, _ = steps[2].get_data()
    assert list(values) == [0.0, 0.25, 0.5] and list(edges) == [0.0, 10.0, 20.0, 30.0]
    assert list(steps[3].get_data()[0]) == pytest.approx([0.0, 0.1, 0.2])


def test_chosen_consumers_without_steal(ax):
    plots.utilization_over_time(series(), ["h1/a.vmm"], steal=False, ax=ax)
    assert [p.get_label() for p in ax.patches] == ["h1/a.vmm"]
    with pytest.raises(ValueError, match="no consumer 'h9'"):
        plots.utilization_over_time(series(), ["h9"], ax=ax)


def test_utilization_over_time_names_the_missing_columns():
    with pytest.raises(ValueError, match="steal_fraction"):
        plots.utilization_over_time(series().drop(columns="steal_fraction"))


# --- time breakdown --------------------------------------------------------------------

STACKS = pd.DataFrame({
    "stack": ["native", "kvm", "kvm"],
    "workload": ["web", "web", "batch"],
    "jobs_completed": [10, 10, 5],
    "response_time_mean_s": [1.0, 2.0, 8.0],
    "native_mean_s": [0.5, 0.5, 4.0],
    "virtualization_mean_s": [0.0, 0.5, 1.0],
    "io_latency_mean_s": [0.25, 0.5, 0.0],
    "startup_mean_s": [0.0, 0.0, 1.0],
    "failure_mean_s": [0.0, 0.0, 0.5],
    "wait_mean_s": [0.25, 0.5, 1.5],
})
BREAKDOWN_COLUMNS = [c for c in STACKS.columns if c.endswith("_mean_s")]


def test_a_stacked_bar_per_row(ax):
    plots.time_breakdown(STACKS, ax=ax)
    bars = ax.containers
    assert [b.get_label() for b in bars] == ["native work", "virtualization", "I/O latency", "start-up",
                                             "failure and restart", "waiting"]
    assert all(len(b) == 3 for b in bars)
    ends = sum(np.array([r.get_width() for r in b]) for b in bars)
    assert list(ends) == [1.0, 2.0, 8.0]  # the parts add up to the mean response time
    # A stack with two workloads: its rows are told apart by workload.
    labels = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    assert [labels[y] for y in (2, 1, 0)] == ["web  [native]", "web  [kvm]", "batch  [kvm]"]  # top to bottom


def test_normalized_bars_are_shares_annotated_with_their_totals(ax):
    plots.time_breakdown(STACKS, normalize=True, ax=ax)
    ends = sum(np.array([r.get_width() for r in b]) for b in ax.containers)
    assert ends == pytest.approx([1.0, 1.0, 1.0])
    assert {t.get_text() for t in ax.texts} == {"1 s", "2 s", "8 s"}


def test_every_breakdown_column_of_the_stacks_table_is_drawn():
    from virtsim.plots.breakdown import BREAKDOWN_PARTS

    assert list(BREAKDOWN_PARTS) == ["native_mean_s", "virtualization_mean_s", "io_latency_mean_s", "startup_mean_s",
                                     "failure_mean_s", "wait_mean_s"]


def test_time_breakdown_names_the_missing_columns_and_refuses_an_empty_table():
    with pytest.raises(ValueError, match="wait_mean_s"):
        plots.time_breakdown(STACKS.drop(columns="wait_mean_s"))
    with pytest.raises(ValueError, match="no rows"):
        plots.time_breakdown(STACKS.iloc[:0])


# --- heatmap ---------------------------------------------------------------------------

GRID = pd.DataFrame({
    "hosts[0].hardware.cores": [4, 4, 4, 8, 8, 8, 8],
    "workloads[0].arrivals.rate": [1.0, 2.0, 3.0, 1.0, 2.0, 2.0, 3.0],
    "response_time_mean_s": [1.0, 2.0, 5.0, 0.5, 0.6, 0.8, 1.0],
})


def test_a_cell_per_combination_with_replications_averaged(ax):
    plots.sweep_heatmap(GRID, "workloads[0].arrivals.rate", "hosts[0].hardware.cores", ax=ax)
    [mesh] = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().reshape(2, 3).ravel().tolist() == pytest.approx([1.0, 2.0, 5.0, 0.5, 0.7, 1.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4", "8"]
    assert len(ax.texts) == 6


def test_a_missing_combination_stays_blank(ax):
    plots.sweep_heatmap(GRID.iloc[1:], "workloads[0].arrivals.rate", "hosts[0].hardware.cores", ax=ax)
    [mesh] = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert np.ma.getmaskarray(mesh.get_array()).sum() == 1
    assert len(ax.texts) == 5


def test_sweep_heatmap_names_the_missing_columns():
    with pytest.raises(ValueError, match="needs the column"):
        plots.sweep_heatmap(GRID, "a", "hosts[0].hardware.cores")
    with pytest.raises(ValueError, match="two different axis columns"):
        plots.sweep_heatmap(GRID, "hosts[0].hardware.cores", "hosts[0].hardware.cores")


def test_a_plot_on_a_given_axes_makes_no_figure(ax):
    before = plt.get_fignums()
    plots.sweep_heatmap(GRID, "workloads[0].arrivals.rate", "hosts[0].hardware.cores", ax=ax)
    plots.time_breakdown(STACKS, ax=ax)
    assert plt.get_fignums() == before
    assert plots.time_breakdown(STACKS).figure.number not in before  # ax=None: a new one


# --- stack diagram ---------------------------------------------------------------------

def gids(ax) -> list[str]:
    return [p.get_gid() for p in ax.patches if p.get_gid()]


def box(ax, gid: str):
    [patch] = [p for p in ax.patches if p.get_gid() == gid]
    return patch


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[str(p.relative_to(ROOT / "experiments")) for p in EXPERIMENTS])
def test_every_experiment_is_drawn_with_each_of_its_pieces(path):
    spec = virtsim.load_experiment(path)
    ax = plots.stack_diagram(spec)
    drawn = gids(ax)
    apps = _apps_by_target(spec)
    groups, left_over = group_hosts(spec.hosts, apps, MAX_GROUPS)
    # Every host is drawn, as the first of its group or counted in it, or summed up in the last column.
    counted = [h.name for g in groups for h in g.hosts] + [h.name for h in left_over]
    assert sorted(counted) == sorted(h.name for h in spec.hosts)  # each once
    assert ("others" in drawn) == bool(left_over)
    titles = {t.get_text() for t in ax.texts}
    assert all(g.title in titles for g in groups)
    for host in (g.first for g in groups):
        assert f"hardware:{host.name}" in drawn
        assert (f"hypervisor:{host.name}" in drawn) == (host.hypervisor is not None and bool(host.vms))
        assert (f"host_os:{host.name}" in drawn) == (host.host_os is not None)
        if f"vms:{host.name}" in drawn or f"containers:{host.name}" in drawn:  # condensed: counts, not each guest
            assert (f"vms:{host.name}" in drawn) == bool(host.vms)
            assert (f"containers:{host.name}" in drawn) == bool(host.containers)
            continue
        for nested in walk_vms(host):
            vm = nested.vm
            assert f"vm:{nested.path}" in drawn
            assert (f"guest_os:{nested.path}" in drawn) == (vm.os is not None)
            assert (f"hypervisor:{nested.path}" in drawn) == bool(vm.vms)
            assert {f"container:{nested.path}/{c.name}" for c in vm.containers} <= set(drawn)
        assert {f"container:{host.name}/{c.name}" for c in host.containers} <= set(drawn)
    if len(groups) == len(spec.hosts) and not any(g.startswith(("vms:", "containers:")) for g in drawn):
        apps_drawn = {g.removeprefix("app:") for g in drawn if g.startswith("app:")}
        targets = set(virtsim.run_spec(spec.model_copy(update={"duration_s": 5.0, "warmup_s": 0.0})).jobs["target"]
                      .astype(str)) if any(w.target is None for w in spec.workloads) \
            else {w.target for w in spec.workloads}
        assert apps_drawn >= targets - {None}


def test_the_quickstart_picture():
    ax = plots.stack_diagram(ROOT / "experiments" / "quickstart.yaml")
    assert sorted(gids(ax)) == sorted([
        "hardware:h1", "host_os:h1", "vm:h1/a", "vm:h1/b", "container:h1/b/web", "app:h1/a", "app:h1/b/web",
        "frame:h1/a", "frame:h1/b"])
    labels = [t.get_text() for t in ax.texts]
    assert "hardware\n8 cores × 1 · 64 GiB" in labels
    assert "container web\n1.5 cpus · 1 GiB" in labels


def test_the_hypervisor_types_are_labelled():
    ax = plots.stack_diagram(ROOT / "experiments" / "stacks" / "compare.yaml")
    labels = {" ".join(t.get_text().split()) for t in ax.texts}  # wrapped to its box's width
    assert {"Type 1 hypervisor: kvm", "Type 2 hypervisor: virtualbox", "sandbox: gvisor", "engine: docker"} <= labels
    # Type 2 sits on the host OS, Type 1 on the hardware.
    assert box(ax, "hypervisor:virtualbox").get_y() > box(ax, "host_os:virtualbox").get_y()
    assert box(ax, "hypervisor:kvm").get_y() < box(ax, "host_os:native").get_y() + 0.5


def test_nested_vms_are_drawn_on_their_l1s_hypervisor_inside_its_frame():
    spec = virtsim.load_experiment(ROOT / "experiments" / "stacks" / "nested-kvm.yaml")
    ax = plots.stack_diagram(spec)
    assert gids(plots.stack_diagram(dump_resolved(spec))) == gids(ax)  # from a manifest's config too
    l1, l2 = "nested-kvm/l1", "nested-kvm/l1/vm"
    assert box(ax, f"hypervisor:{l1}").get_y() > box(ax, f"guest_os:{l1}").get_y()
    assert box(ax, f"vm:{l2}").get_y() > box(ax, f"hypervisor:{l1}").get_y()
    assert box(ax, f"container:{l2}/app").get_y() > box(ax, f"guest_os:{l2}").get_y()
    labels = {t.get_text() for t in ax.texts}
    assert {"Type 1 hypervisor: kvm", "VM vm\n8 vCPU · 16 GiB"} <= labels
    # The L2's frame lies within the L1's, and both reach up to the app on top.
    outer, inner = box(ax, f"frame:{l1}"), box(ax, f"frame:{l2}")
    assert outer.get_x() <= inner.get_x() and inner.get_x() + inner.get_width() <= outer.get_x() + outer.get_width()
    assert outer.get_y() < inner.get_y()
    top = box(ax, f"app:{l2}/app")
    assert inner.get_y() + inner.get_height() >= top.get_y() + top.get_height()


CROWDED = {
    "name": "crowded", "duration": "10 s",
    "hosts": [{
        "name": "big", "hardware": "server-2s-32c", "hypervisor": "kvm",
        "vms": [{"name": "a", "vcpus": 4, "memory": "8 GiB", "engine": "docker",
                 "containers": [{"name": "c1"}, {"name": "c2"}, {"name": "c3"}]},
                {"name": "b", "vcpus": 4, "memory": "8 GiB"},
                {"name": "c", "vcpus": 4, "memory": "8 GiB", "engine": "podman",
                 "containers": [{"name": "x"}, {"name": "y"}]}],
    }],
    "workloads": [{"name": n, "target": t, "type": "open", "arrivals": {"type": "poisson", "rate": "1 /s"},
                   "demand": {"cpu": "1 s"}} for n, t in (("w1", "big/a/c1"), ("w2", "big/a"), ("w3", "big/b"))],
}


def test_widths_are_proportional_to_the_leaves():
    ax = plots.stack_diagram(CROWDED)
    width = {g: box(ax, g).get_width() + 2 * PAD for g in gids(ax)}  # the slot each box stands in
    leaf = width["container:big/a/c1"]
    # VM a: three containers and its own app; b: one app; c: two containers.
    assert width["vm:big/a"] == pytest.approx(4 * leaf)
    assert width["vm:big/b"] == pytest.approx(leaf)
    assert width["vm:big/c"] == pytest.approx(2 * leaf)
    assert width["hardware:big"] == pytest.approx(7 * leaf)
    assert width["engine:big/a"] == pytest.approx(3 * leaf)
    # Side by side: no two VMs overlap.
    spans = sorted((box(ax, f"vm:big/{v}").get_x(), box(ax, f"vm:big/{v}").get_x() + width[f"vm:big/{v}"])
                   for v in "abc")
    assert all(left_end <= right_start for (_, left_end), (right_start, _) in zip(spans, spans[1:]))


def test_the_diagram_from_a_manifest_config_and_one_host():
    spec = virtsim.load_experiment(ROOT / "experiments" / "stacks" / "compare.yaml")
    from_spec = gids(plots.stack_diagram(spec))
    assert gids(plots.stack_diagram(dump_resolved(spec))) == from_spec
    only = gids(plots.stack_diagram(spec, hosts=["kvm"]))
    assert only == [g for g in from_spec if g.split(":", 1)[1].split("/")[0] == "kvm"]
    with pytest.raises(ValueError, match="no host 'nope'"):
        plots.stack_diagram(spec, hosts=["nope"])
    with pytest.raises(ValueError, match="takes an ExperimentSpec"):
        plots.stack_diagram(42)


# --- slide-ready: units, legends, intervals --------------------------------------------

def tick_texts(axis) -> list[str]:
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_millisecond_data_are_labelled_and_ticked_in_ms(ax):
    fast = LOADS.assign(response_time_mean_s=LOADS["response_time_mean_s"] * 0.003)  # 1.5 to 12 ms
    plots.response_time_vs_load(fast, "rate", ax=ax)
    assert ax.get_ylabel() == "mean response time (ms)"
    assert ax.yaxis.get_major_formatter()(0.004, 0) == "4"
    ticks = tick_texts(ax.yaxis)
    assert "10" in ticks and not any("0.0" in t or "e-" in t for t in ticks)
    assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(0.003)  # the data stay in seconds


def test_each_axis_gets_the_unit_its_data_need(ax):
    from virtsim.plots.units import ENERGY_UNITS, choose_unit, format_quantity

    assert [choose_unit([v]).symbol for v in (4e-6, 3.25e-3, 0.999, 4.07, 900.0, 86400.0)] == \
        ["µs", "ms", "ms", "s", "min", "h"]
    assert [format_quantity(v) for v in (0.00325, 4.07, 5e-5)] == ["3.25 ms", "4.07 s", "50 µs"]
    assert [choose_unit([v], ENERGY_UNITS).symbol for v in (500.0, 176844.7, 5e7)] == ["J", "Wh", "kWh"]
    # Ticks at round numbers of the unit shown, not of the joules drawn.
    bars = pd.DataFrame({"placement.policy": ["a", "b"], "energy_j": [176844.7, 3.6e5], "hosts_used": [3, 4]})
    plots.energy_by_policy(bars, ax=ax)
    assert ax.get_ylabel() == "energy (Wh)"
    assert all(float(t) % 10 == 0 for t in tick_texts(ax.yaxis))


def test_breakdowns_of_milliseconds_say_ms(ax):
    web = STACKS.assign(**{c: STACKS[c] * 1e-3 for c in BREAKDOWN_COLUMNS})
    plots.time_breakdown(web, ax=ax)
    assert ax.get_xlabel() == "mean time per job (ms)"
    plots.time_breakdown(web, normalize=True)
    assert {t.get_text() for t in plt.gca().texts} == {"1 ms", "2 ms", "8 ms"}


def test_a_heatmap_of_milliseconds_has_a_colour_bar_in_ms(ax):
    fast = GRID.assign(response_time_mean_s=GRID["response_time_mean_s"] * 1e-3)
    plots.sweep_heatmap(fast, "workloads[0].arrivals.rate", "hosts[0].hardware.cores", ax=ax)
    bar = ax.figure.axes[-1]
    assert bar.get_ylabel() == "mean response time (ms)"
    assert "5" in {t.get_text() for t in ax.texts}  # the 5 ms cell
    assert ax.get_xlabel() == "rate   (workloads[0].arrivals.rate)"


def legend_fits(ax) -> None:
    """The legend lies within the figure and covers none of the Axes' data area."""
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    inside = figure.bbox
    assert inside.x0 - 0.5 <= box.x0 and box.x1 <= inside.x1 + 0.5, (box, inside)
    assert inside.y0 - 0.5 <= box.y0 and box.y1 <= inside.y1 + 0.5, (box, inside)
    assert not box.overlaps(ax.get_window_extent(renderer)), "the legend covers the data"
    title = ax.title.get_window_extent(renderer)
    if ax.get_title():
        assert not box.overlaps(title), "the legend covers the title"


LONG_STACKS = pd.concat([STACKS.assign(stack=f"docker:network=nat / docker:storage=volume / docker / kvm-{k}",
                                       workload=[f"{w}-docker-in-kvm-{k}" for w in STACKS["workload"]])
                         for k in range(5)], ignore_index=True)


def test_legends_lie_within_the_figure_and_off_the_data():
    legend_fits(plots.time_breakdown(LONG_STACKS, normalize=True))
    legend_fits(plots.time_breakdown(LONG_STACKS))
    many = pd.concat([series().assign(consumer=series()["consumer"] + f"-{k}") for k in range(12)])
    legend_fits(plots.utilization_over_time(many))
    lines = pd.concat([LOADS.assign(stack=f"a rather long stack name {k}") for k in range(9)])
    legend_fits(plots.response_time_vs_load(lines, "rate"))


def test_many_consumers_draw_the_busiest():
    many = pd.concat([series().assign(consumer=series()["consumer"] + f"-{k}",
                                      cpu_utilization=series()["cpu_utilization"] + k / 100) for k in range(12)])
    ax = plots.utilization_over_time(many, steal=False)
    drawn = [p.get_label() for p in ax.patches]
    assert drawn == [f"h1-{k}" for k in range(4, 12)]  # hosts at 54 % to 61 %, above every VM
    assert ax.get_legend().get_title().get_text() == "the 8 busiest of 24"


def test_stack_names_are_shortened():
    from virtsim.plots.labels import short_stack

    assert short_stack("docker:network=nat / docker:storage=volume / docker / kvm") == "docker (nat, volume) / kvm"
    assert short_stack("native") == "native"
    ax = plots.time_breakdown(LONG_STACKS.iloc[:1])
    label = ax.get_yticklabels()[0].get_text().replace("\n", " ")
    assert label == "web-docker-in-kvm-0  [docker (nat, volume) / kvm-0]"


SCENARIOS = pd.DataFrame({
    "scenario": [0, 1, 2], "hosts[0].vms[0].vcpus": [1, 2, 4], "replications": [3, 3, 3],
    "response_time_mean_s_mean": [1.5, 0.5, 0.4], "response_time_mean_s_ci95": [0.5, 0.1, 0.05],
})


def test_the_scenarios_table_gives_error_bars(ax):
    plots.response_time_vs_load(SCENARIOS, "hosts[0].vms[0].vcpus", stack=None, ax=ax)
    [bars] = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    [segments] = bars.lines[2]
    ends = [y for s in segments.get_segments() for y in (s[0][1], s[1][1])]
    assert ends == pytest.approx([1.0, 2.0, 0.4, 0.6, 0.35, 0.45])
    assert ax.get_xlabel() == "vcpus   (hosts[0].vms[0].vcpus)"


def test_replications_as_rows_give_student_t_error_bars(ax):
    from scipy.stats import t

    rows = pd.DataFrame({"rate": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0], "replication": [0, 1, 2] * 2,
                         "response_time_mean_s": [1.0, 2.0, 3.0, 2.0, 2.0, 2.0]})
    plots.response_time_vs_load(rows, "rate", stack=None, ax=ax)
    [bars] = ax.containers
    low, high = bars.lines[2][0].get_segments()[0][:, 1]
    half = t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert (low, high) == pytest.approx((2.0 - half, 2.0 + half))
    assert ax.get_title().endswith("(bars: 95 % CI)")


# --- a breakdown per scenario ----------------------------------------------------------

def sweep_stacks(replications: int = 2) -> pd.DataFrame:
    rows = []
    for scenario, vcpus in enumerate((1, 2, 4)):
        for replication in range(replications):
            for workload, jobs, wait in (("web", 30, 0.6 / vcpus), ("batch", 10, 2.0)):
                rows.append({"scenario": scenario, "replication": replication, "hosts[0].vms[0].vcpus": vcpus,
                             "workloads[1].clients": 4, "stack": "kvm", "workload": workload,
                             "jobs_completed": jobs, "native_mean_s": 0.25, "virtualization_mean_s": 0.01,
                             "io_latency_mean_s": 0.0, "startup_mean_s": 0.0, "failure_mean_s": 0.0,
                             "wait_mean_s": wait + 0.1 * replication})
    return pd.DataFrame(rows)


def test_one_bar_per_scenario(ax):
    plots.scenario_breakdown(sweep_stacks(), workload="web", ax=ax)
    parts = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(parts) == 6 and all(len(bars) == 3 for bars in parts)
    ends = sum(np.array([r.get_width() for r in bars]) for bars in parts)
    assert ends == pytest.approx([0.26 + 0.6 + 0.05, 0.26 + 0.3 + 0.05, 0.26 + 0.15 + 0.05])  # replications averaged
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["vcpus 1 · clients 4", "vcpus 2 · clients 4", "vcpus 4 · clients 4"]
    [interval] = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    half = interval.lines[2][0].get_segments()[0][:, 0]
    assert (half[1] - half[0]) / 2 == pytest.approx(confidence_interval([0.26 + 0.6, 0.26 + 0.7])[1])
    legend_fits(plots.scenario_breakdown(sweep_stacks(), workload="web"))


def test_workloads_are_pooled_by_their_jobs_unless_one_is_chosen(ax):
    plots.scenario_breakdown(sweep_stacks(replications=1), by=["hosts[0].vms[0].vcpus"], ax=ax)
    wait = [r.get_width() for r in ax.containers[5]]
    assert wait == pytest.approx([(30 * 0.6 + 10 * 2.0) / 40, (30 * 0.3 + 10 * 2.0) / 40, (30 * 0.15 + 10 * 2.0) / 40])
    assert ax.get_ylabel() == "vcpus" and [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "4"]
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]  # one replication: no interval
    with pytest.raises(ValueError, match="no workload 'nope'; the table has: web, batch"):
        plots.scenario_breakdown(sweep_stacks(), workload="nope")
    with pytest.raises(ValueError, match="wait_mean_s"):
        plots.scenario_breakdown(sweep_stacks().drop(columns="wait_mean_s"))


# --- energy per placement policy -------------------------------------------------------

def placement_summary() -> pd.DataFrame:
    rows = []
    for policy, hosts, energy in (("first-fit", 3, 176000.0), ("worst-fit", 4, 230000.0)):
        for replication in range(3):
            rows.append({"scenario": int(policy == "worst-fit"), "replication": replication,
                         "placement.policy": policy, "energy_j": energy + 1000.0 * replication,
                         "hosts_used": hosts, "hosts_powered_on": hosts})
    return pd.DataFrame(rows)


def test_energy_and_hosts_per_policy_with_their_intervals(ax):
    plots.energy_by_policy(placement_summary(), ax=ax)
    [energy] = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [r.get_height() for r in energy] == pytest.approx([177000.0, 231000.0])
    [hosts] = [c for a in ax.figure.axes if a is not ax for c in a.containers if isinstance(c, BarContainer)]
    assert [r.get_height() for r in hosts] == [3, 4]
    [interval] = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    low, high = interval.lines[2][0].get_segments()[0][:, 1]
    assert (high - low) / 2 == pytest.approx(confidence_interval([176000.0, 177000.0, 178000.0])[1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first-fit", "worst-fit"]
    assert ax.get_xlabel() == "policy" and ax.get_ylabel() == "energy (Wh)"
    legend_fits(plots.energy_by_policy(placement_summary()))


def test_a_single_placement_run_and_one_without_a_power_model(ax):
    one = placement_summary().iloc[:1].drop(columns=["scenario", "replication", "placement.policy"])
    plots.energy_by_policy(one, label="best-fit", ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["best-fit"]
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    unpowered = plots.energy_by_policy(placement_summary().assign(energy_j=np.nan))
    assert unpowered.get_ylabel() == "hosts used" and "no power model" in unpowered.get_title()
    with pytest.raises(ValueError, match="hosts_used"):
        plots.energy_by_policy(one.drop(columns=["hosts_used", "hosts_powered_on"]))


# --- a large platform in few columns ---------------------------------------------------

def platform(n: int, *, identical: bool) -> dict:
    hosts = [{"name": f"h{k}", "hardware": {"cores": 8 if identical else 8 + k, "memory": "32 GiB"},
              "hypervisor": "kvm", "vms": [{"name": "vm", "vcpus": 2, "memory": "4 GiB"}] * (1 + k % 3)}
             for k in range(n)]
    for host in hosts:
        host["vms"] = [dict(vm, name=f"vm{i}") for i, vm in enumerate(host["vms"])]
    return {"name": "large", "duration": "10 s", "hosts": hosts, "workloads": []}


def host_columns(ax) -> list[str]:
    return [g for g in gids(ax) if g.startswith("hardware:")]


def test_a_hundred_hosts_are_drawn_in_at_most_the_cap_of_columns():
    ax = plots.stack_diagram(platform(100, identical=False))
    assert len(host_columns(ax)) <= MAX_GROUPS - 1 and "others" in gids(ax)
    [others] = [t.get_text() for t in ax.texts if t.get_text().startswith("+ ")]
    assert others.startswith(f"+ {100 - len(host_columns(ax))} more hosts")
    left, right = ax.get_xlim()
    assert right - left <= MAX_COLUMNS + MAX_GROUPS  # leaves, plus the gaps between hosts
    assert ax.get_title() == "large: the stack of 100 hosts"


def test_identical_hosts_are_drawn_once_with_their_count():
    ax = plots.stack_diagram(platform(99, identical=True))
    assert host_columns(ax) == ["hardware:h0", "hardware:h1", "hardware:h2"]  # 1, 2 and 3 VMs each
    titles = {t.get_text() for t in ax.texts}
    assert {f"33 identical hosts\nh{k} … h{96 + k}" for k in range(3)} <= titles
    assert "others" not in gids(ax)


def test_a_host_with_many_guests_is_condensed():
    big = {"name": "dense", "duration": "10 s", "workloads": [],
           "hosts": [{"name": "big", "hardware": "server-2s-32c", "hypervisor": "kvm",
                      "vms": [{"name": f"vm{k}", "vcpus": 1 + k % 2, "memory": "2 GiB", "os": "linux-server"}
                              for k in range(40)]}]}
    ax = plots.stack_diagram(big)
    assert not [g for g in gids(ax) if g.startswith("vm:")]
    labels = {t.get_text().replace("\n", " ") for t in ax.texts}
    assert "40 VMs 1–2 vCPU · 2 GiB each" in labels
    assert "hypervisor:big" in gids(ax) and "guest_os:big/*" in gids(ax)


def test_a_condensed_host_counts_an_app_on_a_nested_vm_once():
    nested = {"name": "nested", "duration": "10 s",
              "hosts": [{"name": "h", "hardware": "server-2s-32c", "hypervisor": "kvm",
                         "vms": [{"name": "l1", "vcpus": 8, "memory": "20 GiB", "os": "linux-server",
                                  "hypervisor": "kvm",
                                  "vms": [{"name": "l2", "vcpus": 4, "memory": "8 GiB", "os": "linux-server"}]}]}],
              "workloads": [{"name": "w1", "target": "h/l1/l2", "type": "open",
                             "arrivals": {"type": "poisson", "rate": "1 /s"}, "demand": {"cpu": "1 s"}}]}
    ax = plots.stack_diagram(nested, max_columns=0)  # too narrow for any host: drawn condensed
    assert "vms:h" in gids(ax)
    [apps] = [t.get_text() for t in ax.texts if "w1" in t.get_text()]
    assert apps == "w1"  # not once per level of VMs it runs under
