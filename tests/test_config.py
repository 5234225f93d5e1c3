"""Loading experiment files: the resolved spec, and every problem reported with its path.

The config layer turns a YAML experiment (or a dict) into a frozen spec in SI
units, or raises one ``ConfigError`` that lists *all* problems found, each
with the path to the offending key, e.g. ``hosts[0].vms[1].vcpus``.
"""

import copy
import json
import textwrap

import numpy as np
import pytest

from virtsim.config import (
    ConfigError,
    ConstantDist,
    EmpiricalDist,
    ExperimentSpec,
    ExponentialDist,
    FileArrivals,
    PoissonArrivals,
    Problem,
    catalog_names,
    dump_resolved,
    load_arrivals,
    load_catalog_entry,
    load_experiment,
)

EXAMPLE = """\
name: two-vms
seed: 7
duration: 20000 s          # simulated time; unit strings: s, ms, us, min, h
warmup: 1000 s             # jobs arriving before this are not counted
hosts:
  - name: h1
    hardware: {cores: 8, core_speed: 1.0, memory: 64 GiB}   # or a name from models/hardware
    vms:
      - {name: a, vcpus: 4, memory: 8 GiB, shares: 2000}
      - name: b
        vcpus: 4
        memory: 8 GiB
        shares: 1000
        cap: 2                  # cores
        containers:
          - {name: web, cpus: 1.5, cpu_weight: 100, memory: 1 GiB}
workloads:
  - name: web
    target: h1/b/web           # a host, a VM (host/vm) or a container (host/vm/ctr or host/ctr)
    type: open
    arrivals: {type: poisson, rate: 0.8 /s}        # or {type: file, path: jobs.csv}
    demand: {cpu: {type: exponential, mean: 1 s}}  # constant | exponential | lognormal | empirical
  - name: batch
    target: h1/a
    type: closed
    clients: 8
    think_time: 0 s
    demand: {cpu: {type: constant, value: 10 s}}
"""


def base() -> dict:
    """A small valid experiment as a dict, for tests to break one piece at a time."""
    return {
        "name": "t",
        "duration": "100 s",
        "hosts": [{"name": "h1", "hardware": {"cores": 8, "memory": "64 GiB"},
                   "vms": [{"name": "a", "vcpus": 4, "memory": "8 GiB",
                            "containers": [{"name": "web", "cpus": 1}]}]}],
        "workloads": [{"name": "w", "target": "h1/a", "type": "open",
                       "arrivals": {"type": "poisson", "rate": "1 /s"}, "demand": {"cpu": "1 s"}}],
    }


def problems(source, **kwargs) -> dict[str, str]:
    """path → message for every problem; fails if the source loads."""
    with pytest.raises(ConfigError) as info:
        load_experiment(source, **kwargs)
    return {problem.path: problem.message for problem in info.value.problems}


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# --- the example loads exactly ----------------------------------------------------------


def test_the_example_file_resolves_to_si_units(tmp_path):
    spec = load_experiment(write(tmp_path, "two-vms.yaml", EXAMPLE))
    assert isinstance(spec, ExperimentSpec)
    assert (spec.name, spec.seed, spec.duration_s, spec.warmup_s) == ("two-vms", 7, 20000.0, 1000.0)
    assert spec.stop_after_jobs is None and spec.source.endswith("two-vms.yaml")
    host = spec.hosts[0]
    assert (host.hardware.cores, host.hardware.core_speed) == (8, 1.0)
    assert host.hardware.memory_bytes == 68719476736
    a, b = host.vms
    assert (a.vcpus, a.memory_bytes, a.shares, a.cap_cores, a.reservation_cores) == (4, 8 * 2**30, 2000, None, 0)
    assert (b.shares, b.cap_cores) == (1000, 2.0)
    web = b.containers[0]
    assert (web.cpus, web.cpu_weight, web.memory_bytes) == (1.5, 100, 2**30)
    open_wl, closed_wl = spec.workloads
    assert open_wl.target == "h1/b/web" and open_wl.arrivals == PoissonArrivals(rate_per_s=0.8)
    assert open_wl.demand.cpu == ExponentialDist(mean_s=1.0) and open_wl.demand.threads == 1
    assert closed_wl.clients == 8 and closed_wl.think_time == ConstantDist(value_s=0.0)
    assert closed_wl.demand.cpu == ConstantDist(value_s=10.0)


def test_dump_is_plain_json_with_stable_order(tmp_path):
    spec = load_experiment(write(tmp_path, "x.yaml", EXAMPLE))
    dumped = dump_resolved(spec)
    assert json.loads(json.dumps(dumped)) == dumped
    assert list(dumped)[:4] == ["name", "description", "seed", "duration_s"]
    assert dumped["hosts"][0]["hardware"]["memory_bytes"] == 68719476736
    again = dump_resolved(load_experiment(write(tmp_path, "y.yaml", EXAMPLE)))
    assert again == {**dumped, "source": dumped["source"].replace("x.yaml", "y.yaml")}


def test_dict_source_and_defaults():
    spec = load_experiment(base())
    assert spec.source == "<dict>" and spec.seed == 0 and spec.warmup_s == 0
    assert spec.hosts[0].vms[0].shares == 1000 and spec.hosts[0].vms[0].containers[0].cpu_weight == 100
    assert spec.workloads[0].demand.cpu == ConstantDist(value_s=1.0)  # a bare time means constant


def test_catalog_hardware_needs_a_source_for_every_number(tmp_path, monkeypatch):
    folder = tmp_path / "hardware"
    folder.mkdir()
    (folder / "box.yaml").write_text(
        "name: box\ndescription: test\ncores: 4\ncore_speed: 1.0\nmemory: 8 GiB\n"
        "nics: [{name: eth0, bandwidth: 10 Mb/s, latency_us: 20}]\n"
        "source: {cores: a, core_speed: b, memory: c, nics.eth0.latency_us: d, disks.x.iops: e}\n")
    monkeypatch.setenv("VIRTSIM_MODELS", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        load_catalog_entry("hardware", "box")
    text = str(err.value)
    assert "hardware/box.yaml" in text
    assert "nics[0].bandwidth" in text and "Gbit/s" in text  # 'Mb' is a megabarn, not a megabit
    path = folder / "box.yaml"
    path.write_text(path.read_text().replace("10 Mb/s", "10 Mbit/s"))
    with pytest.raises(ConfigError) as err:
        load_catalog_entry("hardware", "box")
    text = str(err.value)
    assert "no source for nics.eth0.bandwidth" in text and "disks.x.iops" in text


def test_catalog_profile_with_overrides():
    assert {"server-2s-32c", "server-1s-16c", "laptop-8c"} <= set(catalog_names("hardware"))
    entry = load_catalog_entry("hardware", "server-2s-32c")
    assert entry["cores"] == 32 and {"cores", "core_speed", "memory", "disks.nvme0.iops"} <= set(entry["source"])
    data = base()
    data["hosts"][0]["hardware"] = {"profile": "server-2s-32c", "cores": 16}
    hardware = load_experiment(data).hosts[0].hardware
    assert (hardware.name, hardware.cores, hardware.memory_bytes) == ("server-2s-32c", 16, 256 * 2**30)
    data["hosts"][0]["hardware"] = "laptop-8c"
    assert load_experiment(data).hosts[0].hardware.cores == 8


def test_catalog_files_are_schema_checked(tmp_path, monkeypatch):
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "odd.yaml").write_text("name: odd\ncores: 4\ncorez: 4\nmemory: 8 GiB\n")
    monkeypatch.setenv("VIRTSIM_MODELS", str(tmp_path))
    data = base()
    data["hosts"][0]["hardware"] = "odd"
    found = problems(data)
    message = found["hosts[0].hardware"]
    assert "hardware/odd.yaml" in message and "corez: unknown key; did you mean 'cores'?" in message


def test_host_containers_and_native_hosts_are_targets():
    data = base()
    data["hosts"].append({"name": "h2", "hardware": {"cores": 4, "memory": "8 GiB"},
                          "containers": [{"name": "db", "cpus": 2, "memory": "2 GiB"}]})
    data["workloads"] += [
        {"name": "n", "target": "h2", "type": "closed", "clients": 2, "demand": {"cpu": "1 s", "threads": 4}},
        {"name": "c", "target": "h2/db", "type": "closed", "clients": 1,
         "think_time": {"type": "exponential", "mean": "2 s"}, "demand": {"cpu": "1 s"}},
    ]
    spec = load_experiment(data)
    assert spec.hosts[1].containers[0].memory_bytes == 2 * 2**30
    assert spec.workloads[2].think_time == ExponentialDist(mean_s=2.0)


def test_stop_after_jobs_replaces_duration():
    data = base()
    del data["duration"]
    data["stop_after_jobs"] = 1000
    spec = load_experiment(data)
    assert spec.duration_s is None and spec.stop_after_jobs == 1000


# --- each class of bad input --------------------------------------------------------------


def test_zero_vcpus():
    data = base()
    data["hosts"][0]["vms"][0]["vcpus"] = 0
    assert problems(data)["hosts[0].vms[0].vcpus"] == "must be an integer ≥ 1, got 0"


def test_wrong_type_quotes_the_value():
    data = base()
    data["hosts"][0]["vms"][0]["vcpus"] = "four"
    assert problems(data)["hosts[0].vms[0].vcpus"] == "must be an integer ≥ 1, got 'four'"


def test_unknown_key_suggests_the_right_one():
    data = base()
    vm = data["hosts"][0]["vms"][0]
    vm["vcpu"] = vm.pop("vcpus")
    found = problems(data)
    assert found["hosts[0].vms[0].vcpu"] == "unknown key; did you mean 'vcpus'?"
    assert found["hosts[0].vms[0].vcpus"] == "required key is missing"


def test_unknown_key_inside_a_distribution():
    data = base()
    data["workloads"][0]["demand"]["cpu"] = {"type": "exponential", "meen": "1 s"}
    found = problems(data)
    assert found["workloads[0].demand.cpu.meen"] == "unknown key; did you mean 'mean'?"


def test_bad_unit():
    data = base()
    data["duration"] = "20 parsecs"
    assert problems(data)["duration"] == "expected a time like '20 s', '150 ms', '2 h'; got '20 parsecs'"


def test_size_needs_a_unit():
    data = base()
    data["hosts"][0]["vms"][0]["memory"] = 8
    assert "unit like '8 GiB'" in problems(data)["hosts[0].vms[0].memory"]


def test_negative_quantity():
    data = base()
    data["workloads"][0]["arrivals"]["rate"] = "-2 /s"
    assert problems(data)["workloads[0].arrivals.rate"] == "must be a rate > 0, got '-2 /s'"


def test_warmup_must_be_shorter_than_duration():
    data = base()
    data["warmup"] = "200 s"
    assert problems(data)["warmup"] == "must be less than duration (100 s), got 200 s"


def test_unknown_target_lists_valid_ones():
    data = base()
    data["workloads"][0]["target"] = "h1/a/wbe"
    message = problems(data)["workloads[0].target"]
    assert message.startswith("unknown target 'h1/a/wbe' (did you mean 'h1/a/web'?)")
    assert "valid targets: h1, h1/a, h1/a/web" in message


def test_container_cpus_above_vm_vcpus():
    data = base()
    data["hosts"][0]["vms"].append({"name": "b", "vcpus": 4, "memory": "8 GiB",
                                    "containers": [{"name": "web", "cpus": 6}]})
    found = problems(data)
    assert found["hosts[0].vms[1].containers[0].cpus"] == "asks 6 cores but VM 'b' has 4 vCPUs"


def test_capacity_checks():
    data = base()
    vm = data["hosts"][0]["vms"][0]
    vm.update(vcpus=16, cap=20, reservation=5)
    data["hosts"][0]["vms"].append({"name": "b", "vcpus": 4, "memory": "8 GiB", "reservation": 4, "cap": 2})
    found = problems(data)
    assert found["hosts[0].vms[0].vcpus"] == "asks 16 vCPUs but host 'h1' has 8 cores"
    assert found["hosts[0].vms[0].cap"] == "cap of 20 cores exceeds the VM's 16 vCPUs"
    assert found["hosts[0].vms[1].reservation"] == "reserves 4 cores but the VM's cap allow 2 cores"
    assert found["hosts[0]"] == "VM reservations add up to 9 cores but host 'h1' has 8 cores"


def test_duplicate_names_and_workload_kind_keys():
    data = base()
    data["hosts"][0]["vms"].append({"name": "a", "vcpus": 1, "memory": "1 GiB"})
    data["workloads"].append({"name": "w", "target": "h1", "type": "closed", "demand": {"cpu": "1 s"},
                              "arrivals": {"type": "poisson", "rate": 1}})
    found = problems(data)
    assert found["hosts[0].vms[1].name"] == "duplicate VM or container name 'a'"
    assert found["workloads[1].name"] == "duplicate workload name 'w'"
    assert found["workloads[1].clients"] == "required key is missing for a closed workload"
    assert found["workloads[1].arrivals"] == "only for open workloads (this one is closed)"


def test_unknown_distribution_type():
    data = base()
    data["workloads"][0]["demand"]["cpu"] = {"type": "expo", "mean": "1 s"}
    assert problems(data)["workloads[0].demand.cpu.type"] == (
        "must be one of 'constant', 'exponential', 'lognormal', 'empirical', got 'expo'; did you mean 'exponential'?"
    )


def test_compare_metrics_are_columns_of_the_per_workload_table():
    data = base()
    data["compare"] = {"metrics": ["slowdown_mean"]}  # a column of stacks.csv, not of the per-workload table
    assert problems(data)["compare.metrics[0]"] == (
        "must be one of 'response_time_mean_s', 'response_time_p50_s', 'response_time_p95_s', "
        "'response_time_p99_s', 'throughput_per_s', got 'slowdown_mean'"
    )


def test_a_currency_is_an_iso_4217_code():
    data = base()
    data["energy"] = {"currency": "euro"}
    assert problems(data)["energy.currency"] == "must be an ISO 4217 code such as USD or EUR, got 'euro'"


def test_unknown_catalog_name_lists_valid_names():
    data = base()
    data["hosts"][0]["hardware"] = "servr-2s-32c"
    message = problems(data)["hosts[0].hardware"]
    assert "unknown hardware profile 'servr-2s-32c' (did you mean 'server-2s-32c'?)" in message
    assert "laptop-8c" in message and "server-1s-16c" in message


def test_bad_yaml_reports_its_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\nhosts:\n  - name: h1\n   hardware: [\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    (problem,) = info.value.problems
    assert problem.message.startswith("invalid YAML") and problem.line == 4
    assert str(info.value).startswith(f"{path}: 1 problem\n")


def test_not_a_mapping_and_missing_file(tmp_path):
    assert "must be a mapping" in problems(write(tmp_path, "list.yaml", "- 1\n- 2\n"))[""]
    assert "empty file" in problems(write(tmp_path, "empty.yaml", ""))[""]
    with pytest.raises(ConfigError) as info:
        load_experiment(tmp_path / "nope.yaml")
    assert "file not found" in str(info.value) and "nope.yaml" in info.value.source


def test_duplicate_yaml_keys_are_reported(tmp_path):
    text = EXAMPLE.replace("seed: 7\n", "seed: 7\nseed: 8\n")
    assert "duplicate key 'seed'" in problems(write(tmp_path, "dup.yaml", text))[""]


# --- data files ---------------------------------------------------------------------------


def file_workload(path="jobs.csv"):
    data = base()
    data["workloads"] = [{"name": "replay", "type": "open", "arrivals": {"type": "file", "path": path}}]
    return data


def test_arrivals_file_is_parsed_once_and_kept_on_the_spec(tmp_path):
    (tmp_path / "jobs.csv").write_text("time_s,target,cpu_s\n0.5,h1/a,1.0\n\n1.5,h1/a/web,0.25\n2.0,h1,3\n")
    spec = load_experiment(file_workload(), base_dir=tmp_path)
    workload = spec.workloads[0]
    assert workload.target is None and workload.demand is None
    assert isinstance(workload.arrivals, FileArrivals) and workload.arrivals.rows == 3
    table = load_arrivals(spec, workload)
    assert table is workload.arrivals.table
    np.testing.assert_array_equal(table.times_s, [0.5, 1.5, 2.0])
    assert list(table.targets) == ["h1/a", "h1/a/web", "h1"]
    assert "table" not in dump_resolved(spec)["workloads"][0]["arrivals"]
    rebuilt = ExperimentSpec.model_validate(dump_resolved(spec))  # e.g. on a worker
    np.testing.assert_array_equal(load_arrivals(rebuilt, rebuilt.workloads[0]).cpu_s, [1.0, 0.25, 3.0])


def test_missing_arrivals_file(tmp_path):
    message = problems(file_workload("gone.csv"), base_dir=tmp_path)["workloads[0].arrivals.path"]
    assert message.startswith("gone.csv: file not found")


def test_bad_arrivals_rows_are_named_by_line(tmp_path):
    (tmp_path / "jobs.csv").write_text(
        "time_s,target,cpu_s\n0.5,h1/a,1\n0.4,h1/a,1\nabc,h1/a,1\n0.9,h1/x,1\n1.0,h1/a,-1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_experiment(file_workload(), base_dir=tmp_path)
    messages = [p.message for p in info.value.problems]
    assert all(p.path == "workloads[0].arrivals.path" for p in info.value.problems)
    assert "jobs.csv line 3: time_s 0.4 is earlier than the previous row's" in messages
    assert "jobs.csv line 4: time_s must be a finite number ≥ 0, got 'abc'" in messages
    assert "jobs.csv line 5: unknown target 'h1/x' (did you mean 'h1/a'?)" in messages
    assert "jobs.csv line 6: cpu_s must be a finite number > 0, got '-1'" in messages


def test_arrivals_header_and_problem_cap(tmp_path):
    (tmp_path / "bad.csv").write_text("time,target,cpu\n1,h1,1\n")
    assert "header must be exactly time_s,target,cpu_s" in problems(file_workload("bad.csv"), base_dir=tmp_path)[
        "workloads[0].arrivals.path"]
    (tmp_path / "many.csv").write_text("time_s,target,cpu_s\n" + "1,h1,0\n" * 50)
    with pytest.raises(ConfigError) as info:
        load_experiment(file_workload("many.csv"), base_dir=tmp_path)
    assert len(info.value.problems) == 21 and "... and 30 more" in info.value.problems[-1].message


def test_empirical_samples_from_a_file_and_inline(tmp_path):
    (tmp_path / "s.csv").write_text("cpu_s\n0.5\n1.5\n\n2\n")
    data = base()
    data["workloads"][0]["demand"]["cpu"] = {"type": "empirical", "path": "s.csv"}
    spec = load_experiment(data, base_dir=tmp_path)
    assert spec.workloads[0].demand.cpu.samples_s == (0.5, 1.5, 2.0)
    data["workloads"][0]["demand"]["cpu"] = {"type": "empirical", "samples": ["1 s", "500 ms"]}
    assert load_experiment(data).workloads[0].demand.cpu == EmpiricalDist(samples_s=(1.0, 0.5))
    (tmp_path / "s.csv").write_text("0.5\nfast\n-1\n")
    data["workloads"][0]["demand"]["cpu"] = {"type": "empirical", "path": "s.csv"}
    with pytest.raises(ConfigError) as info:
        load_experiment(data, base_dir=tmp_path)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("workloads[0].demand.cpu.path", "s.csv line 2: must be a number of seconds ≥ 0, got 'fast'"),
        ("workloads[0].demand.cpu.path", "s.csv line 3: must be a number of seconds ≥ 0, got '-1'"),
    ]


# --- all at once ----------------------------------------------------------------------------


BROKEN = """\
name: broken
duration: 20 parsecs
warmup: -5 s
hosts:
  - name: h1
    hardware: {cores: 8, memory: 64 GiB}
    vms:
      - {name: a, vcpu: 4, memory: 8 GiB}
      - name: b
        vcpus: 0
        memory: 8 GiB
      - name: c
        vcpus: 4
        memory: 8 GiB
        containers:
          - {name: web, cpus: 6}
  - name: h2
    hardware: servr-2s-32c
workloads:
  - name: web
    target: h1/c/wbe
    type: open
    arrivals: {type: file, path: missing.csv}
  - name: batch
    target: h1/b
    type: closd
    demand: {cpu: {type: expo, mean: 1 s}}
"""


def test_every_problem_is_reported_at_once_with_lines(tmp_path):
    path = write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    found = {(p.path, p.line) for p in info.value.problems}
    assert {
        ("duration", 2), ("warmup", 3), ("hosts[0].vms[0].vcpu", 8), ("hosts[0].vms[1].vcpus", 10),
        ("hosts[0].vms[2].containers[0].cpus", 16), ("hosts[1].hardware", 18), ("workloads[0].target", 21),
        ("workloads[0].arrivals.path", 23), ("workloads[1].type", 26), ("workloads[1].demand.cpu.type", 27),
    } <= found
    report = str(info.value).splitlines()
    assert report[0] == f"{path}: {len(info.value.problems)} problems"
    assert "  hosts[0].vms[1].vcpus: must be an integer ≥ 1, got 0  (line 10)" in report


def test_the_input_is_not_modified():
    data = base()
    before = copy.deepcopy(data)
    load_experiment(data)
    assert data == before


@pytest.mark.parametrize("name", catalog_names("hardware"))
def test_every_shipped_hardware_profile_is_valid_and_sourced(name):
    entry = load_catalog_entry("hardware", name)
    assert entry["name"] == name and entry["source"]["core_speed"]


def test_config_error_survives_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(ConfigError([Problem("a", "b", 3)], "f.yaml")))
    assert err.problems[0].line == 3 and str(err) == "f.yaml: 1 problem\n  a: b  (line 3)"


# --- virtualization layers: hypervisors, host OS, engines, demand vectors -------------------------

LAYERS = """\
name: layers
duration: 100 s
hosts:
  - name: h1
    hardware: server-2s-32c
    hypervisor: virtualbox
    host_os: linux-server
    vms:
      - name: a
        vcpus: 4
        memory: 8 GiB
        os: linux-server
        engine: docker
        containers:
          - {name: web, cpus: 2, memory: 1 GiB, network: nat, storage: volume}
  - name: h2
    hardware: server-2s-32c
    host_os: linux-server
    engine: gvisor
    containers:
      - {name: api, cpus: 4, memory: 2 GiB, network: host}
workloads:
  - name: web
    target: h1/a/web
    type: open
    arrivals: {type: poisson, rate: 200 /s}
    demand:
      cpu: {type: exponential, mean: 2 ms}
      mem_fraction: 0.2
      syscalls: 40
      ctx_switches: 4
      page_faults: 10
      forks: 0
      disk: {ops: 2, bytes: 8 KiB, pattern: random, kind: read}
      net: {transactions: 1, bytes: 2 KiB}
"""


def layered() -> dict:
    import yaml

    return yaml.safe_load(LAYERS)


def test_the_layered_example_resolves(tmp_path):
    spec = load_experiment(write(tmp_path, "layers.yaml", LAYERS))
    h1, h2 = spec.hosts
    assert (h1.hypervisor.name, h1.hypervisor.type, h1.hypervisor.net.latency_us) == ("virtualbox", 2, 30.0)
    assert h1.host_os.name == "linux-server" and h1.engine is None
    vm = h1.vms[0]
    assert (vm.os.name, vm.engine.name, vm.engine.network_modes["nat"].latency_us) == ("linux-server", "docker", 29.6)
    web = vm.containers[0]
    assert (web.network, web.storage, web.cpus, web.memory_bytes) == ("nat", "volume", 2.0, 2**30)
    assert h2.hypervisor is None and (h2.host_os.name, h2.engine.name, h2.engine.kind) == ("linux-server", "gvisor",
                                                                                           "sandbox")
    assert (h2.containers[0].network, h2.containers[0].storage) == ("host", "overlay")  # storage default
    disk = h1.hardware.disks[0]
    assert (disk.name, disk.iops, disk.write_iops, disk.bandwidth_bytes_per_s) == ("nvme0", 1e6, 130000, 7e9)
    assert (disk.latency_s, disk.write_latency_s) == (pytest.approx(85e-6), pytest.approx(20e-6))
    assert h1.hardware.nics[0].bandwidth_bytes_per_s == 25e9 / 8
    demand = spec.workloads[0].demand
    assert demand.cpu == ExponentialDist(mean_s=0.002)
    assert (demand.mem_fraction, demand.syscalls, demand.ctx_switches, demand.page_faults, demand.forks) == (
        0.2, 40, 4, 10, 0)
    assert (demand.disk.ops, demand.disk.bytes, demand.disk.pattern, demand.disk.kind) == (2, 8192, "random", "read")
    assert (demand.net.transactions, demand.net.bytes) == (1, 2048)


def test_kvm_host_and_default_guest_os():
    data = layered()
    data["hosts"][0]["hypervisor"] = "kvm"
    del data["hosts"][0]["host_os"], data["hosts"][0]["vms"][0]["os"]
    h1 = load_experiment(data).hosts[0]
    assert h1.hypervisor.net.wake_us == 20.4 and h1.host_os is None  # Type 1: no host OS needed
    assert h1.vms[0].os.name == "linux-server"  # the default guest under a hypervisor


def test_layered_dump_keeps_names_and_numbers_not_texts():
    spec = load_experiment(layered())
    dumped = dump_resolved(spec)
    assert json.loads(json.dumps(dumped)) == dumped
    hypervisor = dumped["hosts"][0]["hypervisor"]
    assert hypervisor["name"] == "virtualbox" and hypervisor["net"]["latency_us"] == 30.0
    assert hypervisor["memory"]["per_vm"]["base"] == 218 * 2**20
    text = json.dumps(dumped)
    assert '"source"' not in text.replace('"source": "<dict>"', "") and '"description": null' in text
    assert "calibration" not in text
    rebuilt = ExperimentSpec.model_validate(dumped)  # e.g. on a worker
    assert dump_resolved(rebuilt) == dumped and rebuilt.hosts[1].engine.name == "gvisor"


def test_old_files_get_default_devices_and_no_layers():
    spec = load_experiment(base())
    host = spec.hosts[0]
    assert host.hypervisor is host.engine is None
    assert host.host_os.name == "linux-server"  # a native host's OS, for the cost of its operations
    vm = host.vms[0]
    assert vm.os is None and vm.engine is None and vm.containers[0].network == "bridge"
    (disk,), (nic,) = host.hardware.disks, host.hardware.nics
    assert (disk.kind, disk.iops, disk.latency_s) == ("nvme", 1e6, pytest.approx(85e-6))
    assert (nic.name, nic.bandwidth_bytes_per_s, nic.latency_s) == ("eth0", 1.25e9, pytest.approx(14.4e-6))
    assert (nic.mtu_bytes, nic.tso, nic.gro) == (1500, True, True)  # the defaults: Ethernet, offloads on
    demand = spec.workloads[0].demand
    assert (demand.mem_fraction, demand.syscalls, demand.disk, demand.net) == (0, 0, None, None)


def test_inline_disks_and_nics():
    data = base()
    data["hosts"][0]["hardware"] = {
        "cores": 8, "memory": "64 GiB",
        "disks": [{"name": "sda", "kind": "hdd", "iops": 200, "bandwidth": "200 MB/s", "latency_us": 4000}],
        "nics": [{"name": "eth0", "bandwidth": "1 Gbit/s", "latency_us": 25},
                 {"name": "eth1", "bandwidth": "1 Gbit/s", "latency_us": 25}]}
    hardware = load_experiment(data).hosts[0].hardware
    (disk,) = hardware.disks
    assert (disk.write_iops, disk.write_bandwidth_bytes_per_s, disk.write_latency_s) == (200, 200e6, 0.004)
    assert [nic.name for nic in hardware.nics] == ["eth0", "eth1"]
    data["hosts"][0]["hardware"]["nics"][1]["name"] = "eth0"
    assert problems(data) == {"hosts[0].hardware.nics": "duplicate device name 'eth0'"}
    data["hosts"][0]["hardware"] = {"profile": "laptop-8c", "nics": [{"name": "wifi", "bandwidth": "1 Gbit/s",
                                                                      "latency_us": 500}]}
    hardware = load_experiment(data).hosts[0].hardware
    assert hardware.disks[0].write_iops == 850000 and hardware.nics[0].name == "wifi"


def test_demand_vector_defaults_and_bounds():
    data = base()
    data["workloads"][0]["demand"].update(disk={}, net={"bytes": "1 KiB"})
    demand = load_experiment(data).workloads[0].demand
    assert (demand.disk.ops, demand.disk.bytes, demand.disk.pattern, demand.disk.kind) == (1, 4096, "random", "read")
    assert (demand.net.transactions, demand.net.bytes) == (1, 1024)
    data["workloads"][0]["demand"].update(mem_fraction=1.5, syscalls=-1, forks="x",
                                          disk={"kind": "erase", "bytes": "-1 KiB"}, net={"transactions": -2})
    found = problems(data)
    assert found == {
        "workloads[0].demand.mem_fraction": "must be a number from 0 to 1, got 1.5",
        "workloads[0].demand.syscalls": "must be a number ≥ 0, got -1",
        "workloads[0].demand.forks": "must be a number ≥ 0, got 'x'",
        "workloads[0].demand.disk.bytes": "must be a size ≥ 0, got '-1 KiB'",
        "workloads[0].demand.disk.kind": "must be one of 'read', 'write', got 'erase'",
        "workloads[0].demand.net.transactions": "must be a number ≥ 0, got -2",
    }


def test_demand_vector_with_file_arrivals(tmp_path):
    (tmp_path / "jobs.csv").write_text("time_s,target,cpu_s\n0.5,h1/a,1.0\n")
    data = file_workload()
    data["workloads"][0]["demand"] = {"syscalls": 5, "net": {"transactions": 2, "bytes": "1 kB"}}
    demand = load_experiment(data, base_dir=tmp_path).workloads[0].demand
    assert demand.cpu is None and demand.syscalls == 5 and demand.net.bytes == 1000


def test_type2_hypervisor_and_host_engine_need_a_host_os():
    data = layered()
    del data["hosts"][0]["host_os"], data["hosts"][1]["host_os"]
    found = problems(data)
    assert set(found) == {"hosts[0].host_os", "hosts[1].host_os"}
    assert found["hosts[0].host_os"].startswith("required: the Type 2 hypervisor 'virtualbox' runs on it")
    assert found["hosts[1].host_os"].startswith("required: the engine 'gvisor' shares its kernel")
    assert "valid OS profiles: linux-minimal, linux-server" in found["hosts[0].host_os"]


def test_containers_beside_a_hypervisor_need_an_engine():
    data = layered()
    data["hosts"][1]["hypervisor"] = "kvm"
    del data["hosts"][1]["engine"]
    del data["hosts"][0]["vms"][0]["engine"]
    found = problems(data)
    assert set(found) == {"hosts[1].engine", "hosts[0].vms[0].engine"}
    assert "valid engine profiles: containerd, docker, gvisor, kata, podman" in found["hosts[1].engine"]
    assert found["hosts[0].vms[0].engine"].startswith("required for the containers in this VM")


def test_native_hosts_keep_running_containers_without_an_engine():
    data = layered()
    del data["hosts"][1]["engine"], data["hosts"][1]["host_os"]  # native host: bare cgroups
    data["hosts"].append({"name": "h3", "hardware": {"cores": 4, "memory": "8 GiB"},  # VM without hypervisor
                          "vms": [{"name": "v", "vcpus": 2, "memory": "2 GiB", "containers": [{"name": "c"}]}]})
    spec = load_experiment(data)
    assert spec.hosts[1].engine is None and spec.hosts[2].vms[0].engine is None and spec.hosts[2].vms[0].os is None


def test_modes_must_exist_in_the_engine():
    data = layered()
    data["hosts"][1]["engine"] = "kata"  # a VM sandbox: no host networking
    data["hosts"][0]["vms"][0]["containers"][0]["network"] = "nta"
    found = problems(data)
    assert found["hosts[1].containers[0].network"] == (
        "network mode 'host' is not offered by engine 'kata'; valid modes: bridge, nat")
    assert found["hosts[0].vms[0].containers[0].network"].startswith(
        "must be one of 'host', 'bridge', 'nat', got 'nta'")


def test_kata_is_accepted_on_a_host_and_in_a_vm():
    data = layered()
    data["hosts"][1]["engine"] = "kata"
    data["hosts"][1]["containers"][0]["network"] = "nat"
    data["hosts"][0]["vms"][0]["engine"] = "kata"
    spec = load_experiment(data)
    for engine in (spec.hosts[1].engine, spec.hosts[0].vms[0].engine):
        assert engine.kind == "sandbox" and engine.composition.hypervisor.name == "firecracker"


def test_unknown_layer_profiles_list_valid_names():
    data = layered()
    data["hosts"][0]["hypervisor"] = "virtualbx"
    data["hosts"][0]["vms"][0]["os"] = "ubuntu"
    data["hosts"][1]["engine"] = "dokker"
    found = problems(data)
    assert found["hosts[0].hypervisor"].startswith(
        "unknown hypervisor profile 'virtualbx' (did you mean 'virtualbox'?)")
    assert "kvm" in found["hosts[0].hypervisor"] and "parallels" in found["hosts[0].hypervisor"]
    assert found["hosts[0].vms[0].os"].startswith("unknown OS profile 'ubuntu'; valid OS profiles: linux-minimal")
    assert "(did you mean 'docker'?)" in found["hosts[1].engine"]


def test_profile_overrides_are_merged_and_checked():
    data = layered()
    data["hosts"][0]["hypervisor"] = {"profile": "kvm", "net": {"latency_us": 10}, "disk": {"latency_us": 5}}
    data["hosts"][1]["engine"] = {"profile": "docker", "network_modes": {"host": {"latency_us": "2"}}}
    found = problems(data)
    assert found == {"hosts[1].engine.network_modes.host.latency_us": "must be a number ≥ 0, got '2'"}
    data["hosts"][1]["engine"] = {"profile": "docker", "network_modes": {"host": {"latency_us": 2}}}
    h1, h2 = load_experiment(data).hosts
    net = h1.hypervisor.net
    assert (net.latency_us, net.host_cpu_per_packet_us, net.guest_cpu_per_packet_us,
            h1.hypervisor.disk.latency_us) == (10, 4, 1, 5)
    assert h2.engine.network_modes["host"].latency_us == 2 and h2.engine.network_modes["nat"].latency_us == 29.6
    data["hosts"][0]["hypervisor"] = {"profile": "kvm", "name": "mine", "net": {"latncy_us": 1}, "type": 2}
    found = problems(data)
    assert found["hosts[0].hypervisor.name"] == "cannot be overridden (it belongs to the catalog profile)"
    assert found["hosts[0].hypervisor.net.latncy_us"] == "unknown key; did you mean 'latency_us'?"
    assert "hosts[0].hypervisor.type" not in found  # a Type 2 override is valid: it then needs host_os (given)
    data["hosts"][0]["hypervisor"] = 7
    assert problems(data)["hosts[0].hypervisor"].startswith("must be a catalog name or a mapping {profile:")


def test_layer_problems_carry_their_lines(tmp_path):
    text = LAYERS.replace("hypervisor: virtualbox", "hypervisor: {profile: kvm, net: {latency_us: -1}}")
    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path, "bad.yaml", text))
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == ("hosts[0].hypervisor.net.latency_us", 6)


def test_names_reserved_for_the_layers_own_threads():
    data = {"name": "x", "duration": "1 s", "hosts": [
        {"name": "h", "hardware": {"cores": 4, "memory": "8 GiB"}, "host_os": "linux-server", "engine": "docker",
         "containers": [{"name": "docker"}, {"name": "a.vmm"}, {"name": "host-os"}, {"name": "web"}]}]}
    with pytest.raises(ConfigError) as err:
        load_experiment(data)
    paths = {p.path: p.message for p in err.value.problems}
    assert "reserved" in paths["hosts[0].containers[0].name"] and "docker" in paths["hosts[0].containers[0].name"]
    assert "'.vmm'" in paths["hosts[0].containers[1].name"]
    assert "reserved" in paths["hosts[0].containers[2].name"]
    assert "hosts[0].containers[3].name" not in paths
