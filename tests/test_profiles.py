"""Catalog profiles of every kind: schema, SI units, and a source for every number.

Each file under ``models/<kind>/`` must validate against its kind's schema,
cite a source for each number it gives (by dotted path), and cite nothing
else; quantities written with units come out in SI units.
"""

import shutil
from pathlib import Path

import pytest

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
    assert (kvm.type, kvm.net.latency_us, kvm.net.host_cpu_us, kvm.disk.iops_limit) == (1, 20.4, 8.0, 46173.0)
    assert kvm.memory.per_vm.base == 218 * MiB and kvm.startup.vmm_start == 0.5
    assert kvm.ops.syscall.guest_cpu_us == 0.0 and kvm.net.bandwidth_limit is None  # omitted: 0 / none
    firecracker = load_profile("hypervisors", "firecracker")
    assert firecracker.net.bandwidth_limit == 25e9 / 8 and firecracker.disk.bandwidth_limit == GiB
    assert load_profile("hypervisors", "virtualbox").type == 2
    linux = load_profile("os", "linux-server")
    assert (linux.boot.fixed, linux.memory.resident) == (5.5, 300 * MiB)
    assert (linux.ops.fork, linux.host_apps.memory) == (91, GiB)
    docker = load_profile("engines", "docker")
    assert docker.network_modes["nat"].latency_us == 29.6 and docker.storage_modes["overlay"].guest_cpu_us == 1.0
    assert docker.startup.pull.bandwidth == 100e6 and docker.memory.per_container == 4e6
    assert docker.startup.start == pytest.approx(0.893) and docker.composition is None
    nic = load_profile("devices", "nic-10gbe").nic
    assert (nic.bandwidth, nic.latency_us) == (1.25e9, 18.8)


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
    edit(catalog / "hypervisors" / "kvm.yaml", "  net.latency_us: >-", "  net.latency_note: >-")
    text = problems_of("hypervisors", "kvm")
    assert "models/hypervisors/kvm.yaml" in text
    assert "no source for net.latency_us" in text
    assert "names numbers the profile does not have: net.latency_note" in text


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
