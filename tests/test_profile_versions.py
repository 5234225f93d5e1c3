"""Versions of a profile: ``name@version`` is the current profile deep-merged with what that version changes."""

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from virtsim import run_experiment
from virtsim.cli import main
from virtsim.config import load_experiment
from virtsim.config.catalog import catalog_versions, load_catalog_entry, load_profile
from virtsim.config.errors import ConfigError
from virtsim.config.profiles import HypervisorProfile
from virtsim.config.versions import deep_merge, leaf_paths, split_ref, versioned_name

ROOT = Path(__file__).parents[1]
REPO_MODELS = ROOT / "models"
WS = "vmware-workstation"


# --- resolution ---------------------------------------------------------------------------------


def test_a_version_overrides_what_it_names_and_keeps_the_rest():
    current = load_profile("hypervisors", WS)
    old = load_profile("hypervisors", f"{WS}@3.2")
    assert old.name == f"{WS}@3.2"
    assert old.ops.ctx_switch.guest_cpu_us == 14.34 != current.ops.ctx_switch.guest_cpu_us
    assert old.net.bandwidth_factor == 0.324 and old.net.receive_bandwidth_factor == 0.686
    # Named in the version's ops mapping, the other keys of ops.ctx_switch and the other sections stay current.
    assert old.ops.ctx_switch.host_cpu_us == current.ops.ctx_switch.host_cpu_us
    assert old.net.latency_us == current.net.latency_us and old.net.guest_cpu_us == current.net.guest_cpu_us
    assert old.disk == current.disk and old.memory == current.memory and old.startup == current.startup
    assert old.cpu.factor == current.cpu.factor and old.cpu.memory_factor == 1.024


def test_the_current_profile_is_what_the_file_says_without_its_versions():
    path = REPO_MODELS / "hypervisors" / f"{WS}.yaml"
    data = yaml.safe_load(path.read_text())
    assert "3.2" in data["versions"]
    del data["versions"]
    assert load_profile("hypervisors", WS).model_dump() == HypervisorProfile.model_validate(data).model_dump()
    assert load_profile("hypervisors", WS).name == WS  # the default name is unchanged


def test_a_version_carries_its_own_description_and_sources():
    entry = load_catalog_entry("hypervisors", f"{WS}@3.2")
    current = load_catalog_entry("hypervisors", WS)
    assert entry["description"] != current["description"] and "3.2" in entry["description"]
    assert "XEN Table 4" in entry["source"]["ops.ctx_switch.guest_cpu_us"]
    assert entry["source"]["disk.latency_us"] == current["source"]["disk.latency_us"]  # not overridden
    assert "versions" not in entry


def test_split_and_name():
    assert split_ref("docker@1.0") == ("docker", "1.0")
    assert split_ref("docker") == ("docker", None)
    assert versioned_name("docker", None) == "docker" and versioned_name("docker", "1.0") == "docker@1.0"


# --- deep merge -----------------------------------------------------------------------------------


def test_deep_merge_merges_mappings_and_replaces_everything_else():
    base = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}
    merged = deep_merge(base, {"a": {"y": 5, "z": 6}, "b": [9], "c": {"k": 1}})
    assert merged == {"a": {"x": 1, "y": 5, "z": 6}, "b": [9], "c": {"k": 1}}
    assert base == {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}  # not changed in place


_KEYS = st.sampled_from(["a", "b", "c", "d"])
_TREES = st.recursive(st.integers(0, 9), lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8)


def _at(tree, path):
    for key in path.split("."):
        tree = tree[key]
    return tree


@given(st.dictionaries(_KEYS, _TREES, max_size=4), st.dictionaries(_KEYS, _TREES, max_size=4))
def test_deep_merge_keeps_every_override_and_is_idempotent(base, overrides):
    merged = deep_merge(base, overrides)
    for path in leaf_paths(overrides):
        value = _at(overrides, path)
        assert _at(merged, path) == value or (value == {} and isinstance(_at(merged, path), dict))
    assert deep_merge(merged, overrides) == merged
    assert deep_merge(base, {}) == base


# --- in experiments and reports ---------------------------------------------------------------------


def _exp(hypervisor) -> dict:
    return {"name": "v", "seed": 1, "duration": "0.05 s", "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": 2, "memory": "8 GiB"}, "host_os": "linux-server",
                       "hypervisor": hypervisor, "vms": [{"name": "vm", "vcpus": 1, "memory": "1 GiB"}]}],
            "workloads": [{"name": "w", "target": "h/vm", "type": "closed", "clients": 1, "think_time": "0 s",
                           "demand": {"cpu": "1 us", "ctx_switches": 10}}]}


def test_a_stack_names_a_version_and_reports_show_it():
    spec = load_experiment(_exp(f"{WS}@3.2"))
    assert spec.hosts[0].hypervisor.name == f"{WS}@3.2"
    old = run_experiment(_exp(f"{WS}@3.2"))
    new = run_experiment(_exp(WS))
    assert set(old.stacks["stack"]) == {f"{WS}@3.2"}
    assert set(new.stacks["stack"]) == {WS}
    # 1 µs of CPU (x 1.024, cpu.factor) and 10 context switches at native 0.64 µs, plus 14.34 µs (3.2) or 0.10 µs (current) each.
    t_old, t_new = (r.summary["response_time_mean_s"].iloc[0] for r in (old, new))
    assert t_old == pytest.approx((1.024 + 10 * (0.64 + 14.34)) * 1e-6, rel=1e-6)
    assert t_new == pytest.approx((1.024 + 10 * (0.64 + 0.10)) * 1e-6, rel=1e-6)


def test_an_experiment_may_override_a_version_further():
    spec = load_experiment(_exp({"profile": f"{WS}@3.2", "ops": {"fork": {"guest_cpu_us": 1}}}))
    hv = spec.hosts[0].hypervisor
    assert hv.name == f"{WS}@3.2" and hv.ops.fork.guest_cpu_us == 1 and hv.ops.ctx_switch.guest_cpu_us == 14.34


def test_an_unknown_version_is_located_with_a_suggestion():
    with pytest.raises(ConfigError) as err:
        load_experiment(_exp(f"{WS}@3.3"))
    text = str(err.value)
    assert "hosts[0].hypervisor" in text
    assert f"did you mean '{WS}@3.2'" in text and f"its versions: {WS}@3.2" in text


def test_a_profile_without_versions_says_so():
    with pytest.raises(ConfigError, match="defines no versions"):
        load_profile("hypervisors", "kvm@1.0")


def test_an_experiment_cannot_override_versions():
    with pytest.raises(ConfigError, match=r"hosts\[0\]\.hypervisor\.versions: cannot be overridden"):
        load_experiment(_exp({"profile": WS, "versions": {}}))


# --- bad versions in a catalog file are located there -------------------------------------------------


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """A copy of the catalog to edit, in use for the test."""
    shutil.copytree(REPO_MODELS, tmp_path / "models")
    monkeypatch.setenv("VIRTSIM_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def _edit(catalog, kind, name, change):
    path = catalog / kind / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _add_docker_version(data, entry):
    data["versions"] = {"1.0": entry}


def test_an_engine_version_resolves(catalog):
    entry = {"description": "Docker without seccomp", "ops": {"syscall": {"guest_cpu_us": 0.0}},
             "source": {"ops.syscall.guest_cpu_us": "estimate: a test's own number"}}
    _edit(catalog, "engines", "docker", lambda d: _add_docker_version(d, entry))
    assert catalog_versions("engines", "docker") == ["1.0"]
    old = load_profile("engines", "docker@1.0")
    assert old.name == "docker@1.0" and old.ops.syscall.guest_cpu_us == 0.0
    assert old.network_modes == load_profile("engines", "docker").network_modes
    listing = CliRunner().invoke(main, ["catalog", "engines"]).output
    assert "docker@1.0" in listing and "Docker without seccomp" in listing


@pytest.mark.parametrize(("entry", "where", "what"), [
    ({"description": "d", "ops": {"syscall": {"guest_cpu_us": 0.5}}}, "versions.1.0.source",
     "has no source for ops.syscall.guest_cpu_us"),
    ({"description": "d", "source": {"cpu.factor": "x"}}, "versions.1.0.source",
     "names numbers the version does not set: cpu.factor"),
    ({"ops": {}}, "versions.1.0.description", "required"),
    ({"description": "d", "name": "other"}, "versions.1.0.name", "cannot be set by a version"),
    ({"description": "d", "ops": {"syscall": {"guest_cpu_us": -1}}, "source": {"ops.syscall.guest_cpu_us": "s"}},
     "versions.1.0.ops.syscall.guest_cpu_us", "in version '1.0'"),
    ({"description": "d", "ops": {"sycall": {}}}, "versions.1.0.ops.sycall", "in version '1.0'"),
])
def test_a_bad_version_is_located_in_its_file(catalog, entry, where, what):
    _edit(catalog, "engines", "docker", lambda d: _add_docker_version(d, entry))
    with pytest.raises(ConfigError) as err:
        load_profile("engines", "docker")  # the file is checked as a whole, versions included
    assert err.value.source.endswith("docker.yaml")
    assert any(p.path == where and what in p.message and p.line is not None for p in err.value.problems), \
        err.value.problems


def test_a_version_name_must_be_a_string(catalog):
    _edit(catalog, "engines", "docker", lambda d: d.update(versions={1.1: {"description": "d"}}))
    with pytest.raises(ConfigError, match=r"quote it"):
        load_profile("engines", "docker")


def test_the_catalog_command_lists_and_shows_versions():
    listing = CliRunner().invoke(main, ["catalog", "hypervisors"])
    assert listing.exit_code == 0 and f"    {WS}@3.2 " in listing.output
    shown = CliRunner().invoke(main, ["catalog", f"{WS}@3.2"])
    assert shown.exit_code == 0, shown.output
    assert f"hypervisors/{WS}@3.2" in shown.output and f"{WS}.yaml" in shown.output
    assert "ops.ctx_switch.guest_cpu_us: 14.34" in shown.output and "XEN Table 4" in shown.output
    current = CliRunner().invoke(main, ["catalog", WS])
    assert f"versions: {WS}@3.2" in current.output and "ops.ctx_switch.guest_cpu_us: 0.1" in current.output
    bad = CliRunner().invoke(main, ["catalog", f"{WS}@9"])
    assert bad.exit_code == 2 and f"its versions: {WS}@3.2" in bad.output


# --- docker@1.0: the Docker FELTER measured ---------------------------------------------------------


def test_docker_1_0_is_the_current_docker_without_the_seccomp_filters_cost():
    from virtsim.fidelity.benchmarks import CLOCK_GCE, Runner, cpu_ratio, fio_iops, op_time_us, rr_us

    run = Runner()
    native = op_time_us(run, "gce", "native", "syscall")
    assert op_time_us(run, "gce", "docker@1.0", "syscall") == pytest.approx(native, rel=1e-9)
    current = load_profile("engines", "docker").ops.syscall.guest_cpu_us
    assert op_time_us(run, "gce", "docker", "syscall") - native == pytest.approx(current / CLOCK_GCE, rel=1e-6)
    old, now = load_profile("engines", "docker@1.0"), load_profile("engines", "docker")
    assert old.network_modes == now.network_modes and old.storage_modes == now.storage_modes
    assert old.memory == now.memory and old.startup == now.startup and old.cpu == now.cpu
    # FELTER's own Docker rows make no system calls: they read the same on the software of their day.
    for measure in (lambda s: rr_us(run, "felter", s), lambda s: fio_iops(run, "felter", s),
                    lambda s: cpu_ratio(run, "felter", s, "stream")):
        assert measure("docker@1.0") == measure("docker")
