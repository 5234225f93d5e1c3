"""Catalog profiles of every kind: schema, SI units, and a source for every number.

Each file under ``models/<kind>/`` must validate against its kind's schema,
cite a source for each number it gives (by dotted path), and cite nothing
else; quantities written with units come out in SI units.
"""

import shutil
from pathlib import Path

import pytest
import yaml

from virtsim.config import ConfigError, catalog_names, load_catalog_entry, load_profile
from virtsim.config.catalog import CATALOG_SCHEMAS, catalog_dir
from virtsim.config.provenance import number_paths

KINDS = ("hardware", "devices", "hypervisors", "os", "engines")
SHIPPED = [(kind, name) for kind in KINDS for name in catalog_names(kind)]
MiB, GiB = 2**20, 2**30


def test_every_kind_has_a_schema_and_profiles():
    assert set(KINDS) <= set(CATALOG_SCHEMAS)
    assert {"kvm", "xen", "esxi", "hyper-v", "firecracker", "virtualbox", "vmware-workstation",
            "parallels"} <= set(catalog_names("hypervisors"))
    assert {"docker", "podman", "containerd", "gvisor", "kata"} <= set(catalog_names("engines"))
    assert {"linux-server", "linux-minimal"} <= set(catalog_names("os"))
    assert {"nvme-default", "nic-10gbe"} <= set(catalog_names("devices"))


@pytest.mark.parametrize(("kind", "name"), SHIPPED, ids=[f"{kind}/{name}" for kind, name in SHIPPED])
def test_every_shipped_profile_is_valid_and_every_number_sourced(kind, name):
    profile = load_profile(kind, name)
    assert isinstance(profile, CATALOG_SCHEMAS[kind]) and profile.name == name
    numbers = set(number_paths(profile))
    assert numbers and numbers == set(profile.source)
    assert all(text.strip() for text in profile.source.values())
    assert "source" not in profile.model_dump() and "description" not in profile.model_dump()


def test_quantities_are_si_and_microseconds_stay_microseconds():
    kvm = load_profile("hypervisors", "kvm")
    assert (kvm.type, kvm.net.wake_us, kvm.net.host_cpu_per_packet_us, kvm.disk.iops_limit) == (
        1, 20.4, 4.0, 46173.0)
    assert kvm.net.host_cpu_us == 0.0 and kvm.net.receive_host_cpu_per_packet_us is None  # omitted: 0 / as sent
    assert kvm.memory.per_vm.base == 218 * MiB and kvm.startup.vmm_start == 0.5
    assert kvm.ops.syscall.guest_cpu_us == 0.0 and kvm.net.bandwidth_limit is None  # omitted: 0 / none
    firecracker = load_profile("hypervisors", "firecracker")
    assert firecracker.net.bandwidth_limit == 26.6e9 / 8 and firecracker.disk.bandwidth_limit == GiB
    assert load_profile("hypervisors", "virtualbox").type == 2
    linux = load_profile("os", "linux-server")
    assert (linux.boot.fixed, linux.memory.resident) == (5.5, 300 * MiB)
    assert (linux.ops.fork, linux.host_apps.memory) == (91, GiB)
    docker = load_profile("engines", "docker")
    assert docker.network_modes["nat"].latency_us == 29.6 and docker.storage_modes["overlay"].guest_cpu_us == 1.0
    assert docker.startup.pull.bandwidth == 100e6 and docker.memory.per_container == 4e6
    assert docker.startup.start == pytest.approx(0.893) and docker.composition is None
    nic = load_profile("devices", "nic-10gbe").nic
    assert (nic.bandwidth, nic.latency_us, nic.mtu_bytes, nic.offload.tso, nic.offload.gro) == (
        1.25e9, 14.4, 1500, True, True)


def test_kata_is_a_sandbox_composed_of_a_microvm():
    kata = load_profile("engines", "kata")
    assert kata.kind == "sandbox" and set(kata.network_modes) == {"bridge", "nat"}
    assert kata.composition.hypervisor.name == "firecracker" and kata.composition.guest_os.name == "linux-minimal"
    assert kata.composition.hypervisor.net.latency_us == 48.0
    dumped = kata.model_dump(mode="json")
    assert dumped["composition"]["hypervisor"]["name"] == "firecracker"
    assert "source" not in dumped["composition"]["hypervisor"]


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """A writable copy of the shipped catalog, made the active one."""
    root = tmp_path / "models"
    shutil.copytree(catalog_dir(), root, ignore=shutil.ignore_patterns("*.md"))
    monkeypatch.setenv("VIRTSIM_MODELS", str(root))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def problems_of(kind: str, name: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_catalog_entry(kind, name)
    return str(info.value)


def test_an_unsourced_number_is_rejected_naming_file_and_key(catalog):
    edit(catalog / "hypervisors" / "kvm.yaml", "  net.wake_us: >-", "  net.wake_note: >-")
    text = problems_of("hypervisors", "kvm")
    assert "models/hypervisors/kvm.yaml" in text
    assert "no source for net.wake_us" in text
    assert "names numbers the profile does not have: net.wake_note" in text


def test_an_orphan_source_key_is_rejected(catalog):
    edit(catalog / "engines" / "docker.yaml", "source:\n", "source:\n  network_modes.nat.jitter_us: measured\n")
    text = problems_of("engines", "docker")
    assert "models/engines/docker.yaml" in text and "network_modes.nat.jitter_us" in text


def test_a_number_added_without_a_source_is_rejected(catalog):
    edit(catalog / "engines" / "podman.yaml", "host: {latency_us: 0,", "host: {latency_us: 0, host_cpu_us: 1,")
    assert "no source for network_modes.host.host_cpu_us" in problems_of("engines", "podman")


def test_profile_schemas_reject_unknown_keys_bad_values_and_units(catalog):
    edit(catalog / "hypervisors" / "xen.yaml", "type: 1", "type: 3")
    assert "type: must be an integer from 1 to 2, got 3" in problems_of("hypervisors", "xen")
    edit(catalog / "engines" / "gvisor.yaml", "network_modes:\n", "network_modes:\n  macvlan: {latency_us: 1}\n")
    assert "network_modes.macvlan" in problems_of("engines", "gvisor")
    edit(catalog / "hypervisors" / "esxi.yaml", "startup: {vmm_start: 1 s}", "startup: {vmm_start: 1 s, vmm_stop: 1}")
    assert "startup.vmm_stop: unknown key" in problems_of("hypervisors", "esxi")
    edit(catalog / "os" / "linux-server.yaml", "resident: 300 MiB", "resident: 300")
    assert "memory.resident: expected a size with a unit" in problems_of("os", "linux-server")


def test_a_composition_must_name_existing_profiles(catalog):
    edit(catalog / "engines" / "kata.yaml", "hypervisor: firecracker", "hypervisor: firecrackr")
    text = problems_of("engines", "kata")
    assert "composition.hypervisor: unknown hypervisor profile 'firecrackr' (did you mean 'firecracker'?)" in text


def test_a_device_profile_holds_one_disk_or_one_nic(catalog):
    edit(catalog / "devices" / "nic-10gbe.yaml", "nic:\n", "disk: null\nnic:\n")
    load_catalog_entry("devices", "nic-10gbe")
    edit(catalog / "devices" / "nic-10gbe.yaml", "nic:\n", "nics:\n")
    assert "give exactly one of 'disk' or 'nic'" in problems_of("devices", "nic-10gbe")


# --- every seed system is itself --------------------------------------------------------------------

T2 = "type2-startup-migration.md"
EXPERIMENT_FILES = sorted((Path(__file__).parents[1] / "experiments").glob("**/*.yaml"))
ALIASES = {"vmware-workstation": ("vmware-workstation", "workstation")}


def _value(profile, path: str):
    value = profile
    for key in path.split("."):
        value = value[key] if isinstance(value, dict) else getattr(value, key)
    return value


def _numbers(kind: str) -> dict[str, dict[str, float]]:
    return {name: {path: _value(load_profile(kind, name), path) for path in number_paths(load_profile(kind, name))}
            for name in catalog_names(kind)}


@pytest.mark.parametrize("kind", ["hypervisors", "engines"])
def test_no_two_products_share_all_their_numbers(kind):
    """Two products of one kind never have the same content (name, description and sources aside)."""
    dumps = {name: load_profile(kind, name).model_dump(mode="json", exclude={"name"})
             for name in catalog_names(kind)}
    names = sorted(dumps)
    same = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if dumps[a] == dumps[b]]
    assert not same, f"profiles with identical numbers: {same}"


@pytest.mark.parametrize("kind", ["hypervisors", "engines", "os"])
def test_a_number_two_products_share_says_where_it_comes_from(kind):
    """Products that share a (non-neutral) value are linked by their sources: each one names another of them
    (the product the value was taken from, or "no published measurement distinguishes this from X")."""
    numbers = _numbers(kind)
    sources = {name: load_profile(kind, name).source for name in numbers}

    def names(text: str, other: str) -> bool:
        return any(alias in text.lower() for alias in ALIASES.get(other, (other,)))

    unlinked = []
    for path in sorted({p for values in numbers.values() for p in values} - {"type"}):
        groups: dict[float, list[str]] = {}
        for name, values in numbers.items():
            if path in values and values[path] not in (0, 1.0):
                groups.setdefault(values[path], []).append(name)
        for value, members in groups.items():
            linked, todo = {members[0]}, [members[0]]
            while todo:
                a = todo.pop()
                for b in members:
                    if b not in linked and (names(sources[a][path], b) or names(sources[b][path], a)):
                        linked.add(b)
                        todo.append(b)
            if linked != set(members):
                unlinked.append((path, value, sorted(set(members) - linked)))
    assert not unlinked, unlinked


def test_the_type_1_hypervisors_differ_where_their_io_is_served():
    kvm, esxi, hyperv = (load_profile("hypervisors", n) for n in ("kvm", "esxi", "hyper-v"))
    # KVM: QEMU's user-space I/O thread; ESXi: the vmkernel's in-kernel stack; Hyper-V: the root partition.
    assert kvm.io_backend == esxi.io_backend == "vmm" and hyperv.io_backend == "root-partition"
    assert kvm.disk.latency_us == 330 and kvm.disk.iops_limit == 46173
    assert esxi.disk.latency_us == 0 and esxi.disk.iops_limit is None
    assert 0 < hyperv.disk.latency_us < kvm.disk.latency_us and hyperv.disk.iops_limit is None
    # ESXi's own per-VM overhead table; a QEMU process for KVM.
    assert esxi.memory.per_vm != kvm.memory.per_vm
    assert hyperv.cpu.factor > esxi.cpu.factor == kvm.cpu.factor
    others = [n for n in catalog_names("hypervisors") if n != "hyper-v"]
    assert all(load_profile("hypervisors", n).io_backend == "vmm" for n in others)


def test_the_type_2_hypervisors_are_three_products():
    profiles = {n: load_profile("hypervisors", n) for n in ("virtualbox", "vmware-workstation", "parallels")}
    assert all(p.type == 2 for p in profiles.values())
    factors = {n: (p.cpu.factor, p.cpu.memory_factor) for n, p in profiles.items()}
    assert len(set(factors.values())) == 3, factors
    # Workstation runs VMware's VMM and VMX (ESXi's overhead table); the others a QEMU-like process.
    assert profiles["vmware-workstation"].memory.per_vm == load_profile("hypervisors", "esxi").memory.per_vm
    assert profiles["virtualbox"].memory.per_vm != profiles["vmware-workstation"].memory.per_vm
    # VirtualBox's own measured write ceiling.
    assert profiles["virtualbox"].disk.write_bandwidth_factor == 0.66
    assert profiles["vmware-workstation"].disk.write_bandwidth_factor is None


def test_podman_differs_from_docker_in_its_control_path_only():
    docker, podman = load_profile("engines", "docker"), load_profile("engines", "podman")
    datapath = ("cpu", "ops", "network_modes", "storage_modes")
    assert podman.model_dump(include=set(datapath)) == docker.model_dump(include=set(datapath))
    assert podman.memory.daemon == 0 < docker.memory.daemon  # no dockerd/containerd resident
    assert podman.memory.per_container < docker.memory.per_container  # conmon in the shim's place
    assert podman.runtime == "crun" and docker.runtime == "runc"
    ratio = (podman.startup.create + podman.startup.start) / (docker.startup.create + docker.startup.start)
    assert ratio == pytest.approx(22.5 / 21.65, rel=2e-3)  # type2-startup-migration.md §4.5


def test_containerd_is_the_kubernetes_node_runtime():
    containerd, docker = load_profile("engines", "containerd"), load_profile("engines", "docker")
    assert containerd.startup.create == pytest.approx((127.2 + 35.5) * 1e-3)  # RunPodSandbox + CreateContainer
    assert "kubelet" in containerd.description and "kubernetes" in containerd.description.lower()
    assert containerd.memory.daemon > 40 * MiB  # the kubelet and kube-proxy beside containerd
    assert containerd.network_modes == docker.network_modes  # the same kernel datapath


# Each number fitted (or bounded) on type2-startup-migration.md cites its row there; "L" rows (and L-M) are
# envelopes, and a value taken from one says so.
CITED = {
    ("hypervisors", "hyper-v", "cpu.factor"): ("§3.2", "M"),
    ("hypervisors", "hyper-v", "cpu.memory_factor"): ("§3.2", "M"),
    ("hypervisors", "parallels", "cpu.factor"): ("§2.3", "L"),
    ("hypervisors", "virtualbox", "cpu.factor"): ("§2.4", "L"),
    ("hypervisors", "virtualbox", "disk.write_bandwidth_factor"): ("§2.1", "L"),
    ("engines", "podman", "startup.start"): ("§4.5", "M"),
    ("engines", "containerd", "startup.create"): ("§4.6", "M"),
    ("os", "macos", "host_apps.cpu"): ("§2.3", "L"),
}


@pytest.mark.parametrize(("kind", "name", "path"), sorted(CITED), ids=["/".join(k) for k in sorted(CITED)])
def test_a_new_number_cites_its_row(kind, name, path):
    section, confidence = CITED[(kind, name, path)]
    text = load_profile(kind, name).source[path]
    assert f"{T2} {section}" in text, text
    if confidence == "L":
        assert "envelope" in text, text  # an L row bounds a value, it does not fit one: the source says so


def test_every_fitted_row_of_m_confidence_or_more_is_a_fidelity_row():
    """A number fitted on a row of confidence M or H is replayed by a fidelity row of its stack that cites it."""
    from virtsim.fidelity.published import BY_ID

    fitted = sorted({(name, section) for (_, name, _), (section, confidence) in CITED.items()
                     if confidence in ("M", "H")})
    assert fitted
    for name, section in fitted:
        rows = [row.id for row in BY_ID.values() if row.stack == name and f"{T2} {section}" in row.source]
        assert rows, f"no fidelity row of {name} cites {T2} {section}"
    assert BY_ID["vmw-ovh-esxi-4096-4"].stack == "esxi"  # ESXi's overhead fit (calibration README §7, H)


def test_the_l_rows_are_envelopes_the_profiles_stay_within():
    """Low-confidence rows bound the profiles (type2-startup-migration.md §2, §4.5)."""
    ratio = {n: 1 / load_profile("hypervisors", n).cpu.factor for n in ("virtualbox", "vmware-workstation",
                                                                           "parallels")}
    assert 0.867 <= ratio["parallels"] <= 0.887  # §2.3: Apple M1, Geekbench 5 single-core
    assert 0.65 < ratio["virtualbox"] < 0.993  # §2.1 PTS geometric mean; §2.4 "Cycles"
    assert ratio["vmware-workstation"] > 0.71  # §2.2: Fusion 3 (the same VMM), pre-EPT, overall
    docker, podman = load_profile("engines", "docker"), load_profile("engines", "podman")
    start = (podman.startup.create + podman.startup.start) / (docker.startup.create + docker.startup.start)
    assert 1 <= start < 2  # §4.5: podman 0.10.1 was 2-5x slower on concurrent starts; fixed since


def _experiment_files():
    for path in EXPERIMENT_FILES:
        yield path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _hosts_and_vms(data: dict):
    """Every host and VM mapping of an experiment file (placement pools included)."""
    def vms(items):
        for vm in items or []:
            yield vm
            yield from vms(vm.get("vms"))
    for host in data.get("hosts") or []:
        yield host
        yield from vms(host.get("vms"))
    yield from vms((data.get("placement") or {}).get("vms"))


def _profile_name(ref):
    return ref.get("profile") if isinstance(ref, dict) else ref


def test_the_macos_profile_exists_and_parallels_runs_on_it():
    assert "macos" in catalog_names("os")
    assert "host_os: macos" in load_profile("hypervisors", "parallels").description
    runs = 0
    for path, data in _experiment_files():
        for item in _hosts_and_vms(data):
            if _profile_name(item.get("hypervisor")) == "parallels":
                runs += 1
                assert _profile_name(item.get("host_os", item.get("os"))) == "macos", path  # a host's, or a VM's own
    assert runs > 0


COURSE_SYSTEMS = {"esxi", "hyper-v", "xen", "kvm", "virtualbox", "vmware-workstation", "parallels", "docker",
                  "podman", "kubernetes"}


def test_every_system_of_the_course_is_used_by_an_experiment():
    """Hypervisor and engine names of all experiment files; Kubernetes is the kube-scheduler placement policy
    over containerd (or Docker) nodes."""
    used = set()
    for _, data in _experiment_files():
        for item in _hosts_and_vms(data):
            used |= {_profile_name(item.get(k)) for k in ("hypervisor", "engine")}
        placement = data.get("placement") or {}
        if placement.get("policy") == "kubernetes":
            engines = {_profile_name(h.get("engine")) for h in data.get("hosts") or []
                       if h["name"] in placement.get("hosts", [h["name"]])}
            if engines & {"containerd", "docker"}:
                used.add("kubernetes")
    assert COURSE_SYSTEMS <= used, sorted(COURSE_SYSTEMS - used)
