"""Modelled clients: a load generator on another host that pays CPU per request and sends through its NIC."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.config import ConfigError
from virtsim.model.packets import Link

ROOT = Path(__file__).parents[1]
_NET = yaml.safe_load((ROOT / "models" / "os" / "linux-server.yaml").read_text(encoding="utf-8"))["net"]
STACK_S = (_NET["send_cpu_per_packet_us"] + _NET["receive_cpu_per_packet_us"]) * 1e-6
"""What a one-packet-each-way transaction costs a bare Linux client's network stack (its first packet each way)."""


def kv_experiment(*, clients: int = 1, server_cpu="100 us", client_cpu="50 us", client: bool = True,
                  client_cores: int = 8, client_nic: str = "10 Gbit/s", size: str = "512 B",
                  think="0 s", client_target: str = "lg", duration: str = "2 s", vm: bool = False) -> dict:
    lg = {"name": "lg", "hardware": {"cores": client_cores, "core_speed": 1.0, "memory": "16 GiB",
                                     "nics": [{"name": "eth0", "bandwidth": client_nic, "latency_us": 18.8}]}}
    if vm:
        lg |= {"hypervisor": "kvm", "vms": [{"name": "gen", "vcpus": client_cores, "memory": "4 GiB"}]}
    workload = {"name": "kv", "target": "srv", "type": "closed", "clients": clients, "think_time": think,
                "demand": {"cpu": server_cpu, "net": {"transactions": 1, "bytes": size}}}
    if client:
        workload["client"] = {"target": client_target, "demand": {"cpu": client_cpu}}
    return {"name": "clients", "seed": 3, "duration": duration, "warmup": "0.2 s", "cold_start": False,
            "hosts": [{"name": "srv", "hardware": {"cores": 8, "core_speed": 1.0, "memory": "16 GiB"}}, lg],
            "workloads": [workload]}


def summary(exp: dict):
    return virtsim.run_experiment(exp).summary.iloc[0]


def lone_response_s(duration: str = "0.3 s", **kwargs) -> float:
    """The response time of every request of a single closed client (all alike: constant demands)."""
    jobs = virtsim.run_experiment(kv_experiment(duration=duration, **kwargs)).jobs
    done = jobs[jobs.counted & jobs.end_s.notna()].response_time_s
    assert np.allclose(done, done.iloc[0], rtol=1e-12)
    return float(done.iloc[0])


# --- what one request costs alone ---------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(server_us=st.integers(1, 2000), client_us=st.integers(1, 2000), size=st.integers(0, 200_000))
def test_a_lone_request_costs_the_clients_work_plus_the_servers(server_us, client_us, size):
    shape = {"server_cpu": f"{server_us} us", "size": f"{size} B"}
    alone = lone_response_s(client=False, **shape)
    exp = kv_experiment(client_cpu=f"{client_us} us", duration="0.3 s", **shape)
    results = virtsim.run_experiment(exp)
    jobs = results.jobs
    done = jobs[jobs.counted & jobs.end_s.notna()]
    # The client's work and its stack's first packet each way come first; the rest streams with the server's.
    expected = alone + client_us * 1e-6 + STACK_S
    assert np.allclose(done.response_time_s, expected, rtol=1e-9, atol=1e-12)
    assert np.allclose(done.client_s, client_us * 1e-6 + STACK_S, rtol=1e-9)
    # Alone, the breakdown accounts for all of it: nothing is waiting.
    assert np.allclose(done.bare_metal_s, expected, rtol=1e-9) and np.allclose(done.wait_s, 0.0, atol=1e-12)


def test_without_a_client_nothing_changes_and_no_client_column():
    jobs = virtsim.run_experiment(kv_experiment(client=False, duration="0.3 s")).jobs
    assert "client_s" not in jobs
    done = jobs[jobs.end_s.notna()]
    assert len(done) > 100 and np.allclose(done.bare_metal_s, done.response_time_s, rtol=1e-9)
    spec = virtsim.load_experiment(kv_experiment(client=False))
    assert "client" not in spec.model_dump()["workloads"][0]  # configuration hashes stay as they were


def test_the_server_draws_the_same_demands_with_or_without_modelled_clients():
    """The client's CPU has its own random stream: the server's draws are common random numbers."""
    varied = {"type": "exponential", "mean": "100 us"}
    with_client = virtsim.run_experiment(kv_experiment(server_cpu=varied, client_cpu=varied, duration="0.3 s")).jobs
    without = virtsim.run_experiment(kv_experiment(server_cpu=varied, client=False, duration="0.3 s")).jobs
    n = min(len(with_client), len(without))
    assert n > 100
    assert np.array_equal(with_client.cpu_demand_s[:n], without.cpu_demand_s[:n])


# --- contention -------------------------------------------------------------------------------


@pytest.mark.parametrize("client_cores", [1, 2])
def test_the_load_generator_saturates_at_its_cores_over_its_cost(client_cores):
    """64 clients on a generator of c cores at 50 µs each, plus its stack's packets: c / (50 µs + stack) per second.

    (Exponential costs: identical constant ones would march in lock-step, all at the generator at once,
    then all at the server while the generator idles.)"""
    s = summary(kv_experiment(clients=64, client_cores=client_cores, server_cpu="10 us",
                              client_cpu={"type": "exponential", "mean": "50 us"}))
    assert s.throughput_per_s == pytest.approx(client_cores / (50e-6 + STACK_S), rel=0.02)


def test_a_free_generator_leaves_the_server_as_the_bottleneck():
    s = summary(kv_experiment(clients=64, client_cpu="1 us", server_cpu={"type": "exponential", "mean": "400 us"}))
    assert s.throughput_per_s == pytest.approx(8 / 400e-6, rel=0.02)


def test_closed_loop_with_the_clients_cost_follows_the_response_time_law():
    """N clients, no think time, nothing saturated: X = N / R with R = the client's part + the server's.

    The four identical clients move in step, on cores enough for all: the client's part adds to each
    request what it adds to one alone."""
    s = summary(kv_experiment(clients=4))
    r = summary(kv_experiment(clients=4, client=False)).response_time_mean_s + 50e-6 + STACK_S
    assert s.response_time_mean_s == pytest.approx(r, rel=1e-6)
    assert s.throughput_per_s == pytest.approx(4 / r, rel=0.01)


def test_a_slower_client_nic_carries_the_bytes_at_its_rate():
    size = 1_000_000
    wire = Link().wire_bytes(size)  # the frames, at 10 GbE at the server and 1 GbE at the client
    fast = lone_response_s(size=f"{size} B")
    slow = lone_response_s(size=f"{size} B", client_nic="1 Gbit/s")
    assert slow - fast == pytest.approx(wire * (8 / 1e9 - 8 / 10e9), rel=1e-3)


def test_clients_sharing_one_generator_nic_share_its_bandwidth():
    """Two downloads at once through a 1 GbE generator: each gets half of it (the server's 10 GbE is not the
    bottleneck)."""
    size = 10_000_000
    s = summary(kv_experiment(clients=2, client_nic="1 Gbit/s", size=f"{size} B", duration="3 s",
                              server_cpu="1 us", client_cpu="1 us"))
    # Both transfers at once through the 1 GbE generator: each takes twice what it takes alone.
    alone = lone_response_s(size=f"{size} B", client_nic="1 Gbit/s", server_cpu="1 us", client_cpu="1 us",
                            duration="2 s")
    wire_s = Link().wire_bytes(size) * 8 / 1e9
    assert s.response_time_mean_s == pytest.approx(alone + wire_s, rel=2e-3)


def test_a_client_in_a_vm_pays_its_stacks_network_costs():
    """The generator in a KVM guest: its virtio path's latency and CPU per transaction add to each request."""
    bare = virtsim.run_experiment(kv_experiment(duration="0.3 s")).jobs.dropna(subset=["end_s"])
    in_vm = virtsim.run_experiment(kv_experiment(vm=True, client_target="lg/gen", duration="0.3 s"))
    jobs = in_vm.jobs.dropna(subset=["end_s"])
    added = jobs.response_time_s.mean() - bare.response_time_s.mean()
    assert added > 20e-6  # kvm.yaml's net wake-up alone is 20.4 µs per transaction (its vhost thread idle)
    # All of it is the client's stack: its latency and CPU, and its virtio bandwidth factor on the transfer.
    assert jobs.virtualization_s.mean() + jobs.io_latency_s.mean() - bare.io_latency_s.mean() == pytest.approx(
        added, rel=1e-9)
    assert jobs.io_latency_s.mean() > bare.io_latency_s.mean()
    assert np.allclose(jobs.wait_s, 0.0, atol=1e-9)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "where", "message"), [
    (lambda w: w["client"].update(target="lgg"), "workloads[0].client.target", "did you mean 'lg'"),
    (lambda w: w["client"].update(target="srv"), "workloads[0].client.target", "another host"),
    (lambda w: w["client"]["demand"].update(net={"transactions": 1, "bytes": "1 KiB"}),
     "workloads[0].client.demand.net", "the server's network transactions"),
    (lambda w: w["client"]["demand"].update(disk={"ops": 1, "bytes": "4 KiB"}),
     "workloads[0].client.demand.disk", "no disk I/O"),
    (lambda w: w["client"]["demand"].pop("cpu"), "workloads[0].client.demand.cpu", "required"),
    (lambda w: w["client"]["demand"].update(cpu="0 s"), "workloads[0].client.demand.cpu", "must be > 0"),
])
def test_bad_clients_are_located_errors(change, where, message):
    exp = kv_experiment()
    change(exp["workloads"][0])
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    text = str(caught.value)
    assert where in text and message in text, text


def test_a_client_host_cannot_fail():
    exp = kv_experiment()
    exp["failures"] = [{"domain": "lg", "layer": "hardware", "at": ["1 s"], "time_to_repair": "1 s"}]
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    assert "failures[0].domain" in str(caught.value) and "runs the clients of workload 'kv'" in str(caught.value)


def test_the_cli_names_the_file_and_the_key(tmp_path):
    exp = kv_experiment()
    exp["workloads"][0]["client"]["target"] = "nowhere"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(exp), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "virtsim.cli", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "bad.yaml" in done.stderr + done.stdout and "client.target" in done.stderr + done.stdout


def test_replicas_on_the_client_host_are_refused():
    exp = kv_experiment()
    exp["hosts"][1]["containers"] = [{"name": "web"}]
    w = exp["workloads"][0]
    del w["target"]
    w["replicas"] = ["srv", "lg/web"]
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    assert "'lg/web'" in str(caught.value) and "another host" in str(caught.value)


def test_open_workloads_have_modelled_clients_too():
    exp = kv_experiment(duration="2 s")
    w = exp["workloads"][0]
    for key in ("clients", "think_time"):
        del w[key]
    w |= {"type": "open", "arrivals": {"type": "poisson", "rate": "2000/s"}}
    exp["hosts"][1]["hardware"]["cores"] = 1
    s = summary(exp)
    # The generator's one core at 50 µs a request is 10 % busy: M/D/1 waits are small, never negative.
    assert s.response_time_mean_s >= lone_response_s() - 1e-12 and math.isfinite(s.response_time_mean_s)
    assert s.throughput_per_s == pytest.approx(2000, rel=0.05)
