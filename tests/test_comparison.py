"""Stack comparisons: common random numbers and paired differences with intervals.

Under ``compare``, every host is one stack. Workloads that are the same apart
from their name and target draw the same arrivals and demands on every host,
however they are named, so a stack's difference from the baseline is the
stack's alone; ``differences.csv`` reports it per compared workload, with a
paired-t interval across replications. Summaries never pool unlike workloads.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from test_workload_context import jobs_of

import virtsim
from virtsim.analysis.paired import paired_rows, summarize_differences
from virtsim.cli import main

ROOT = Path(__file__).parents[1]
COMPARE = ROOT / "experiments" / "stacks" / "compare.yaml"

WEB = {"type": "open", "arrivals": {"type": "poisson", "rate": "20 /s"},
       "demand": {"cpu": {"type": "exponential", "mean": "5 ms"}, "syscalls": 40,
                  "net": {"transactions": 1, "bytes": "4 KiB"}}}


def two_stacks(**top) -> dict:
    """A native host and a KVM host with one web service each, named unlike each other."""
    return {
        "name": "pair", "seed": 5, "duration": "60 s", "warmup": "5 s", "cold_start": False,
        "hosts": [
            {"name": "bare", "hardware": "server-2s-32c", "host_os": "linux-server",
             "containers": [{"name": "app", "cpus": 4}]},
            {"name": "kvm", "hardware": "server-2s-32c", "hypervisor": "kvm",
             "vms": [{"name": "app", "vcpus": 4, "memory": "8 GiB", "os": "linux-server"}]},
        ],
        "workloads": [{"name": "alpha", "target": "bare/app", **copy.deepcopy(WEB)},
                      {"name": "omega", "target": "kvm/app", **copy.deepcopy(WEB)}],
        **top,
    }


def test_matching_workloads_draw_the_same_arrivals_and_demands_however_named():
    results = virtsim.run_spec(virtsim.load_experiment(two_stacks(compare={"baseline": "bare"})))
    a, b = jobs_of(results, "alpha"), jobs_of(results, "omega")
    assert len(a) == len(b) > 500
    assert np.array_equal(a["arrival_s"], b["arrival_s"])
    assert np.array_equal(a["cpu_demand_s"], b["cpu_demand_s"])
    # and every job is slower on KVM than on bare metal: the same work, a longer path
    assert (b["response_time_s"].to_numpy() >= a["response_time_s"].to_numpy() - 1e-12).all()


def test_without_compare_each_workload_keeps_its_own_streams():
    results = virtsim.run_spec(virtsim.load_experiment(two_stacks()))
    a, b = jobs_of(results, "alpha"), jobs_of(results, "omega")
    assert not np.array_equal(a["arrival_s"][:50], b["arrival_s"][:50])


def test_the_baseline_member_keeps_the_numbers_it_draws_alone():
    """Streams are named after the baseline's workload: adding stacks never changes the baseline run."""
    alone = virtsim.run_spec(virtsim.load_experiment(two_stacks()))
    paired = virtsim.run_spec(virtsim.load_experiment(two_stacks(compare={"baseline": "bare"})))
    assert np.array_equal(jobs_of(alone, "alpha")["arrival_s"], jobs_of(paired, "alpha")["arrival_s"])


def test_different_definitions_are_not_paired_and_identical_ones_on_one_host_stay_independent():
    raw = two_stacks(compare={})
    raw["workloads"].append({"name": "beta", "target": "bare/app", **copy.deepcopy(WEB)})   # 2nd on bare
    raw["workloads"].append({"name": "psi", "target": "kvm/app", **copy.deepcopy(WEB)})     # 2nd on kvm
    slower = {"name": "other", "target": "kvm/app", **copy.deepcopy(WEB)}
    slower["arrivals"]["rate"] = "3 /s"
    raw["workloads"].append(slower)
    spec = virtsim.load_experiment(raw)
    groups = {g.name: g.members for g in spec.comparison.workloads}
    assert sorted(groups.values()) == [(("bare", "alpha"), ("kvm", "omega")), (("bare", "beta"), ("kvm", "psi"))]
    streams = {w.name: w.streams for w in spec.workloads}
    assert streams["alpha"] == streams["omega"] == "alpha"
    assert streams["beta"] == streams["psi"] == "beta"
    assert streams["other"] == "other"


def test_random_streams_names_a_group_by_hand():
    raw = two_stacks()
    raw["workloads"][1]["arrivals"]["rate"] = "21 /s"  # not the same definition any more
    for w in raw["workloads"]:
        w["random_streams"] = "web"
    results = virtsim.run_spec(virtsim.load_experiment(raw))
    # the same uniform draws: gaps scale with 20/21, demands are equal
    a, b = jobs_of(results, "alpha"), jobs_of(results, "omega")
    n = min(len(a), len(b))
    assert np.allclose(np.diff(a["arrival_s"][:n]) * 20 / 21, np.diff(b["arrival_s"][:n]), rtol=1e-9)
    assert np.array_equal(a["cpu_demand_s"][:n], b["cpu_demand_s"][:n])


def test_a_bad_compare_section_is_reported_with_its_path():
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(two_stacks(compare={"baseline": "nope"}))
    assert err.value.problems[0].path == "compare.baseline"
    assert "bare" in str(err.value) and "kvm" in str(err.value)
    raw = two_stacks(compare={})
    raw["workloads"][1]["demand"]["syscalls"] = 41
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(raw)
    assert err.value.problems[0].path == "compare"
    assert "same apart from their name and target" in str(err.value)


def test_paired_interval_is_the_student_t_interval_of_the_per_replication_differences():
    stack = [4.1, 4.3, 3.9, 4.6]
    base = [3.0, 3.3, 2.8, 3.4]
    paired = pd.DataFrame({"workload": "w", "stack": "kvm", "baseline": "native", "metric": "m",
                           "stack_value": stack, "baseline_value": base,
                           "difference": np.subtract(stack, base)})
    row = summarize_differences(paired, [], 0.95).iloc[0]
    # differences 1.1, 1.0, 1.1, 1.2: mean 1.1, sd 0.0816497; half-width 3.18245 (t at 0.975, 3 df) × 0.0816497 / 2
    assert row["replications"] == 4
    assert row["difference_mean"] == pytest.approx(1.1, rel=1e-12)
    assert row["difference_ci"] == pytest.approx(0.129923, rel=1e-5)
    assert row["relative_difference"] == pytest.approx(1.1 / 3.125, rel=1e-12)  # 0.352


def test_paired_rows_read_each_member_of_each_compared_workload():
    spec = virtsim.load_experiment(two_stacks(compare={"metrics": ["response_time_mean_s", "throughput_per_s"]}))
    table = pd.DataFrame({"workload": ["alpha", "omega"], "response_time_mean_s": [1.0, 1.5],
                          "throughput_per_s": [10.0, 9.0]})
    rows = paired_rows(table, spec.comparison.model_dump(mode="json"))
    assert rows[["stack", "baseline", "metric", "difference"]].values.tolist() == [
        ["kvm", "bare", "response_time_mean_s", 0.5], ["kvm", "bare", "throughput_per_s", -1.0]]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """compare.yaml, shortened, with 3 replications, through the CLI."""
    raw = yaml.safe_load(COMPARE.read_text(encoding="utf-8"))
    assert raw["compare"]["baseline"] == "native" and raw["replications"] >= 3
    raw.update(duration="80 s", warmup="10 s", replications=3)
    folder = tmp_path_factory.mktemp("compare")
    path = folder / "compare.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(folder / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(folder / "out" / "differences.csv"), folder / "out"


def test_compare_yaml_orders_the_stacks_as_their_paths_do(compared):
    _, differences, _ = compared
    web = differences[(differences["workload"] == "web") & (differences["metric"] == "response_time_mean_s")]
    d = web.set_index("stack")
    assert (web["replications"] == 3).all()
    # every stack adds to the web request, and each difference is resolved by its interval
    for stack in ("kvm", "virtualbox", "docker-nat", "gvisor", "docker-in-kvm"):
        assert d.at[stack, "difference_mean"] - d.at[stack, "difference_ci"] > 0, stack
    # a hosted hypervisor costs more than KVM; NAT more than host networking; containers less than VMs
    assert d.at["virtualbox", "difference_mean"] > d.at["kvm", "difference_mean"]
    assert d.at["docker-nat", "difference_mean"] > d.at["docker-host", "difference_mean"] >= 0
    assert d.at["gvisor", "difference_mean"] < d.at["kvm", "difference_mean"]


def test_the_console_states_each_difference_with_its_interval(compared):
    output, _, _ = compared
    assert "paired differences" in output
    line = next(line for line in output.splitlines() if "virtualbox − native" in line)
    number = r"[+-]\d+(\.\d+)? (ms|µs|s) ± \d+(\.\d+)? (ms|µs|s) \(95%\)"
    assert re.search(number, line), line
    assert "web, mean response time (3 replications):" in output


def test_summaries_never_pool_unlike_workloads(compared):
    output, _, folder = compared
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["response_time_mean_s"].isna().all()  # two workloads per host: no pooled mean
    scenarios = pd.read_csv(folder / "scenarios.csv")
    assert set(scenarios["workload"]) >= {"web-native", "batch-native", "web-kvm"}
    assert len(scenarios) == 14  # one row per workload (7 stacks × web and batch)
    assert "response time, mean" not in output


def test_a_single_workload_run_keeps_its_headline():
    raw = two_stacks()
    raw["workloads"] = raw["workloads"][:1]
    summary = virtsim.run_spec(virtsim.load_experiment(raw)).summary.iloc[0]
    assert summary["response_time_mean_s"] > 0


def test_the_stack_files_comments_hold_in_the_tables(compared):
    """What experiments/stacks/*.yaml say in their comments: the layers' path delays are in
    virtualization_s, the devices' own time (io_latency_s) is native's except under gVisor."""
    _, _, folder = compared
    stacks = pd.read_csv(folder / "stacks.csv")
    web = stacks[stacks["workload"].str.startswith("web-")].groupby("workload")[
        ["io_latency_mean_s", "virtualization_mean_s"]].mean()
    io, virt = web["io_latency_mean_s"], web["virtualization_mean_s"]
    for stack in ("kvm", "virtualbox", "docker-nat", "docker-host", "docker-in-kvm"):
        assert io[f"web-{stack}"] == pytest.approx(io["web-native"], rel=1e-3), stack
    assert io["web-gvisor"] > io["web-native"] * 1.001
    assert virt["web-native"] == 0.0
    assert virt["web-docker-host"] == pytest.approx(4.8e-6, rel=0.05)
    assert virt["web-docker-nat"] == pytest.approx(42.4e-6, rel=0.05)
    assert virt["web-virtualbox"] > virt["web-kvm"]
    assert virt["web-docker-in-kvm"] > max(virt["web-kvm"], virt["web-docker-nat"])
