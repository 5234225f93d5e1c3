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
from matplotlib.patches import StepPatch  # noqa: E402

import virtsim  # noqa: E402
from virtsim import plots  # noqa: E402
from virtsim.config import dump_resolved  # noqa: E402
from virtsim.config.vm_tree import walk_vms  # noqa: E402
from virtsim.plots.diagram import _PAD as PAD  # noqa: E402

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
                                  "sweep_heatmap", "stack_diagram"}


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
    from virtsim.experiment.results import BREAKDOWN
    from virtsim.plots.breakdown import BREAKDOWN_PARTS

    assert list(BREAKDOWN_PARTS) == [f"{column[:-2]}_mean_s" for column in BREAKDOWN]


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
    for host in spec.hosts:
        assert f"hardware:{host.name}" in drawn
        assert (f"hypervisor:{host.name}" in drawn) == (host.hypervisor is not None and bool(host.vms))
        assert (f"host_os:{host.name}" in drawn) == (host.host_os is not None)
        for nested in walk_vms(host):
            vm = nested.vm
            assert f"vm:{nested.path}" in drawn
            assert (f"guest_os:{nested.path}" in drawn) == (vm.os is not None)
            assert (f"hypervisor:{nested.path}" in drawn) == bool(vm.vms)
            assert {f"container:{nested.path}/{c.name}" for c in vm.containers} <= set(drawn)
        assert {f"container:{host.name}/{c.name}" for c in host.containers} <= set(drawn)
    apps = {g.removeprefix("app:") for g in drawn if g.startswith("app:")}
    targets = set(virtsim.run_spec(spec.model_copy(update={"duration_s": 5.0, "warmup_s": 0.0})).jobs["target"]
                  .astype(str)) if any(w.target is None for w in spec.workloads) else {w.target for w in spec.workloads}
    assert apps >= targets - {None}


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
    labels = {t.get_text() for t in ax.texts}
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
