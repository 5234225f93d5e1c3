"""Hosted (Type 2) hypervisors: device emulation through the host OS's stacks, and the host OS's scheduler.

A Type 2 VMM emulates devices in a user-level process on the host OS, so each
guest disk operation or network transaction costs host OS system calls and
context switches (the profile's ``host_stack``), at the native costs of the OS
it runs on, in the VMM consumer. The VM's vCPUs, its VMM thread and the host
OS's own apps are siblings on the host's cores.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim import run_experiment
from virtsim.components.stack import Layer, compose
from virtsim.config import load_experiment, load_profile
from virtsim.config.errors import ConfigError
from virtsim.config.profiles import HypervisorProfile

US = 1e-6
LINUX = load_profile("os", "linux-server")
TYPE2 = ("virtualbox", "vmware-workstation", "parallels")


def _stack_cpu_us(profile, os_) -> tuple[float, float]:
    """(per disk operation, per network transaction) host-stack CPU, µs, from the two profiles' numbers."""
    hs = profile.host_stack
    per = [section.syscalls * os_.ops.syscall + section.ctx_switches * os_.ops.ctx_switch
           for section in (hs.disk, hs.net)]
    return per[0], per[1]


@pytest.mark.parametrize("name", TYPE2)
def test_a_hosted_vmm_pays_the_host_os_stack_in_its_own_consumer(name):
    hyp = load_profile("hypervisors", name)
    disk_us, net_us = _stack_cpu_us(hyp, LINUX)
    assert disk_us > 0 and net_us > 0
    on_os = compose([Layer("hypervisor", hyp, "h/a.vmm", host_os=LINUX.ops.cost())], LINUX)
    bare = compose([Layer("hypervisor", hyp, "h/a.vmm")], LINUX)
    assert on_os.disk.host_cpu_s["h/a.vmm"] == pytest.approx((hyp.disk.host_cpu_us + disk_us) * US, rel=1e-12)
    assert on_os.net.host_cpu_s["h/a.vmm"] == pytest.approx((hyp.net.host_cpu_us + net_us) * US, rel=1e-12)
    assert bare.disk.host_cpu_s["h/a.vmm"] == pytest.approx(hyp.disk.host_cpu_us * US, rel=1e-12)
    # Nothing of it in the requester's context, and the report's layer name is the hypervisor's.
    assert on_os.disk.guest_cpu_s == bare.disk.guest_cpu_s and on_os.net.guest_cpu_s == bare.net.guest_cpu_s
    assert on_os.layers == (name,)


def test_a_bare_metal_hypervisor_has_no_host_stack():
    with pytest.raises(ValueError, match="only a Type 2"):
        HypervisorProfile.model_validate({**load_profile("hypervisors", "kvm").model_dump(),
                                          "description": "", "source": {},
                                          "host_stack": {"disk": {"syscalls": 1}}}, context={"resolved": True})
    for name in ("kvm", "esxi", "xen", "hyper-v", "firecracker"):
        assert load_profile("hypervisors", name).host_stack is None


def _disk_exp(host_os, hypervisor="virtualbox", nested=False) -> dict:
    disk = {"name": "d", "kind": "ssd", "iops": 1_000_000, "bandwidth": "10 GB/s", "latency_us": 50}
    # No IOPS ceiling in the way: the VMM thread's work per operation is then exactly its CPU costs.
    hyp = {"profile": hypervisor, "disk": {"iops_limit": 1e9}}
    vm = {"name": "vm", "vcpus": 1, "memory": "1 GiB"}
    target = "h/vm"
    if nested:
        vm = {"name": "l1", "vcpus": 2, "memory": "4 GiB", "os": host_os, "hypervisor": hyp, "vms": [vm]}
        host = {"name": "h", "hardware": {"cores": 4, "memory": "16 GiB", "disks": [disk]}, "hypervisor": "kvm",
                "vms": [vm]}
        target = "h/l1/vm"
    else:
        host = {"name": "h", "hardware": {"cores": 2, "memory": "8 GiB", "disks": [disk]}, "host_os": host_os,
                "hypervisor": hyp, "vms": [vm]}
    return {"name": "t2", "seed": 1, "duration": "0.1 s", "cold_start": False, "hosts": [host],
            "workloads": [{"name": "w", "target": target, "type": "closed", "clients": 1, "think_time": "0 s",
                           "demand": {"cpu": "1 us", "disk": {"ops": 1, "bytes": "4 KiB"}}}]}


def _vmm_us_per_op(exp: dict, vmm: str) -> float:
    r = run_experiment(exp)
    cpu = r.consumers.set_index("consumer")["cpu_time_s"][vmm]
    return cpu / r.summary["jobs_completed"].iloc[0] / US


@pytest.mark.parametrize(("syscall", "ctx"), [(0.37, 0.64), (5.0, 2.0)])
def test_the_host_stack_is_priced_at_the_host_os_costs(syscall, ctx):
    host_os = {"profile": "linux-server", "ops": {"syscall": syscall, "ctx_switch": ctx}}
    per_op = _vmm_us_per_op(_disk_exp(host_os), "h/vm.vmm")
    hyp = load_profile("hypervisors", "virtualbox")
    expected = hyp.disk.host_cpu_us + hyp.host_stack.disk.syscalls * syscall + hyp.host_stack.disk.ctx_switches * ctx
    # The last job may be in flight at the end: its VMM work counts, its completion not (1 in ~300).
    assert per_op == pytest.approx(expected, rel=0.01)


def test_a_type_2_hypervisor_in_a_vm_pays_the_stack_of_that_vm_s_guest_os():
    host_os = {"profile": "linux-server", "ops": {"syscall": 5.0, "ctx_switch": 2.0}}
    per_op = _vmm_us_per_op(_disk_exp(host_os, nested=True), "h/l1/vm.vmm")
    hyp = load_profile("hypervisors", "virtualbox")
    assert per_op == pytest.approx(hyp.disk.host_cpu_us + 2 * 5.0 + 2 * 2.0, rel=0.01)


def test_the_host_stack_slows_the_request_when_the_vmm_thread_is_shared():
    # One core: the VMM thread's host-stack work competes with the vCPU for it.
    cheap = _disk_exp({"profile": "linux-server", "ops": {"syscall": 0.0, "ctx_switch": 0.0}})
    dear = _disk_exp({"profile": "linux-server", "ops": {"syscall": 20.0, "ctx_switch": 20.0}})
    for exp in (cheap, dear):
        exp["hosts"][0]["hardware"]["cores"] = 1
    t_cheap, t_dear = (run_experiment(e).summary["response_time_mean_s"].iloc[0] for e in (cheap, dear))
    # 2 x 20 + 2 x 20 µs more per operation, on the share of the core the host OS's apps leave the VMM thread.
    assert t_dear - t_cheap == pytest.approx(80 * US / (1 - LINUX.host_apps.cpu), rel=1e-3)


@settings(max_examples=8, deadline=None)
@given(cores=st.integers(1, 4), apps=st.sampled_from([0.0, 0.1, 0.25, 0.5]))
def test_vcpus_share_the_host_s_cores_with_the_host_os_apps(cores, apps):
    # A VM with as many vCPUs as the host has cores, busy on all of them, beside the host OS's apps:
    # equal weights, the apps capped at their load, so the VM gets cores - apps.
    host_os = {"profile": "linux-server", "host_apps": {"cpu": apps}}
    exp = {"name": "s", "seed": 1, "duration": "20 s", "cold_start": False,
           "hosts": [{"name": "h", "hardware": {"cores": cores, "memory": "16 GiB"}, "host_os": host_os,
                      "hypervisor": "vmware-workstation",
                      "vms": [{"name": "vm", "vcpus": cores, "memory": "1 GiB"}]}],
           "workloads": [{"name": "w", "target": "h/vm", "type": "closed", "clients": 1, "think_time": "0 s",
                          "demand": {"cpu": f"{cores} s", "threads": cores}}]}
    spec = load_experiment(exp)
    factor = spec.hosts[0].hypervisor.cpu.factor
    t = run_experiment(exp).summary["response_time_mean_s"].iloc[0]
    assert t == pytest.approx(cores * factor / (cores - apps), rel=1e-6)


def test_a_version_keeps_the_host_stack_of_the_current_profile():
    assert (load_profile("hypervisors", "vmware-workstation@3.2").host_stack
            == load_profile("hypervisors", "vmware-workstation").host_stack)


def test_host_stack_counts_must_not_be_negative():
    with pytest.raises(ConfigError, match="host_stack"):
        load_experiment({**_disk_exp("linux-server"),
                         "hosts": [{**_disk_exp("linux-server")["hosts"][0],
                                    "hypervisor": {"profile": "virtualbox",
                                                   "host_stack": {"disk": {"syscalls": -1}}}}]})
