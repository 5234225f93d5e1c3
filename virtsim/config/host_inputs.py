"""Input keys of hosts and what runs on them: hardware, layers (catalog profiles), VMs and containers.

The placement pool's items (``placement_inputs``) are written as these are;
``inputs`` puts them in the experiment file.
"""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .errors import format_value
from .fields import Name, OrAlso, Text, choice, integer, number, quantity
from .hardware import REMOTE_MEMORY_FACTOR, SMT_SIBLING_FACTOR, SOCKETS, THREADS_PER_CORE, DiskProfile, NicProfile
from .power import PowerModel
from .profiles import NETWORK_MODES, STORAGE_MODES

RESTART_POLICIES = ("on-failure", "never")

__all__ = ["COUNT_DESCRIPTION", "ContainerInput", "ContainerStorageInput", "StorageInput", "HardwareInput", "HostInput", "ProfileInput", "ProfileRef", "VMInput"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


REMOTE_WRITES = ("all", "quorum")

_REMOTE = ("A disk on another host, 'HOST/DISK' ('nas1/disk0'; 'nas1' alone: its first disk), or a list of them for "
           "a replicated target: a write goes to every one, a read to the first listed. The disk's operations then "
           "cross the network to that host and are served by its disk, shared with its own users; needs a "
           "'network' section with every host involved attached. A live migration of a VM whose disk is remote "
           "moves only its memory. Absent (default): the host's first local disk, as before.")
_WRITE = ("A replicated target: a write is done when 'all' (default) of its disks are done, or a majority "
          "('quorum', the second fastest of three).")


def _remote_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_DISK_REF = r"^[^/\s](?:[^/]*[^/\s])?(?:/[^/\s](?:[^/]*[^/\s])?)?$"
RemoteRefs = Annotated[list[Annotated[str, Field(pattern=_DISK_REF)]], BeforeValidator(_remote_list),
                       Field(min_length=1), OrAlso({"type": "string", "pattern": _DISK_REF})]


class StorageInput(_Input):
    """Where a VM's image lives: ``{remote: nas1/disk0}`` or ``{remote: [h1/disk0, h2/disk0], write: quorum}``."""

    remote: RemoteRefs | None = Field(default=None, description=_REMOTE)
    write: choice(*REMOTE_WRITES) = Field(default="all", description=_WRITE)


class ContainerStorageInput(StorageInput):
    """A container's storage: its mode in the engine and, optionally, a remote volume."""

    mode: choice(*STORAGE_MODES) = Field(
        default="overlay", description="Storage mode: 'volume' or 'overlay' (default); the engine must offer it.")


def _storage_mode(value: Any) -> Any:
    return {"mode": value} if isinstance(value, str) else value


_STORAGE_MODE = {"type": "string", "enum": list(STORAGE_MODES), "description": "a storage mode alone"}


class ContainerInput(_Input):
    """A container (cgroup) inside a VM or directly on a host."""

    name: Name = Field(description="Name, unique within its VM or host.")
    cpus: number(gt=0) | None = Field(default=None, description="CPU cap in cores (cgroup cpu.max); none if absent.")
    cpu_weight: integer(ge=1, le=10000) = Field(default=100, description="cgroup v2 cpu.weight, 1 to 10000.")
    cpu_quota_period: quantity("time", gt=0) | None = Field(
        default=None,
        description="Enforce 'cpus' as the kernel's CFS bandwidth control does, a quota of cpus × period "
                    "of CPU time per period (e.g. '100 ms', the kernel's default): within a period the "
                    "container runs on as many cores as it has threads until the quota is used, then is "
                    "throttled until the period ends. Needs 'cpus'. Absent: 'cpus' is a fluid cap.")
    memory: quantity("size", gt=0) | None = Field(default=None, description="Memory limit, e.g. '1 GiB'.")
    network: choice(*NETWORK_MODES) = Field(
        default="bridge", description="Network mode: 'host', 'bridge' (default) or 'nat'; the engine must offer it.")
    storage: Annotated[ContainerStorageInput, BeforeValidator(_storage_mode), OrAlso(_STORAGE_MODE)] = Field(
        default_factory=ContainerStorageInput,
        description="Storage mode, 'volume' or 'overlay' (default), which the engine must offer; or "
                    "{mode, remote, write} for a volume on another host (a VM's 'storage').")
    restart: choice(*RESTART_POLICIES) = Field(
        default="on-failure",
        description="After a failure that takes it down: 'on-failure' (default) starts it again once the "
                    "failed layer is repaired; 'never' leaves it down.")

    @model_validator(mode="after")
    def _quota_needs_limit(self):
        if self.cpu_quota_period is not None and self.cpus is None:
            raise ValueError("'cpu_quota_period' needs 'cpus' (the quota is cpus × period); give both or neither")
        return self


def _profile_name_is_mapping(value: Any) -> Any:
    return {"profile": value} if isinstance(value, str) else value


class ProfileInput(_Input):
    """A catalog profile by name, optionally with overrides: ``kvm`` or ``{profile: kvm, net: {latency_us: 10}}``.

    Overrides are deep-merged onto the profile and checked by the catalog's schema.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    profile: Name = Field(description="Name of a catalog profile, or 'name@version' for one of the versions "
                                      "it defines (vmware-workstation@3.2); 'name' alone is the current version.")

    @property
    def overrides(self) -> dict:
        return dict(self.model_extra or {})


def _profile_ref(value: Any) -> Any:
    if isinstance(value, str):
        return {"profile": value}
    if not isinstance(value, dict):
        raise ValueError(f"must be a catalog name or a mapping {{profile: <name>, ...overrides}}, "
                         f"got {format_value(value)}")
    return value


_CATALOG_NAME = {"type": "string", "minLength": 1,
                 "description": "a catalog profile name, or 'name@version' for one of its versions"}

ProfileRef = Annotated[ProfileInput, BeforeValidator(_profile_ref), OrAlso(_CATALOG_NAME)]


class VMInput(_Input):
    """A virtual machine on a host, or nested in a VM that runs a hypervisor."""

    name: Name = Field(description="Name, unique within its host.")
    vcpus: integer(ge=1) = Field(description="Virtual CPUs; at most the host's hardware threads (its cores, "
                                             "times threads_per_core with SMT).")
    sockets: integer(ge=1) | None = Field(
        default=None, description="Host sockets the VM is pinned to (its vCPUs and memory); default: the fewest "
                                  "whose hardware threads hold its vCPUs. A VM spanning s sockets makes (s-1)/s of "
                                  "its memory accesses remote (the host's remote_memory_factor).")
    memory: quantity("size", gt=0) = Field(description="Guest memory, e.g. '8 GiB'.")
    active_memory: quantity("size", gt=0) | None = Field(
        default=None, description="Memory the guest keeps actively in use (at most memory; default: all of it). "
                                  "Under host overcommit a balloon driver can reclaim the rest before the host swaps.")
    dirty_rate: quantity("bandwidth", ge=0) = Field(
        default=0.0, description="Bytes of memory the running guest dirties per second, e.g. '50 MB/s' (read only "
                                 "by a live migration's pre-copy rounds); default 0: an idle guest, which migrates "
                                 "in one round. No calibration row gives a default.")
    writable_working_set: quantity("size", gt=0) | None = Field(
        default=None, description="The pages the guest keeps writing: at most this much is dirty again after a "
                                  "pre-copy round (at most memory); default: all of its memory.")
    shares: number(gt=0) = Field(default=1000, description="Proportional-share weight against sibling VMs.")
    cap: number(gt=0) | None = Field(default=None, description="CPU limit in cores; at most vcpus.")
    reservation: number(ge=0) = Field(default=0, description="Guaranteed CPU in cores; at most cap and vcpus.")
    os: ProfileRef | None = Field(
        default=None, description="Guest OS (models/os); default 'linux-server' when the host has a hypervisor.")
    engine: ProfileRef | None = Field(
        default=None, description="Container engine in the guest (models/engines); needed for containers "
        "when the host has a hypervisor.")
    containers: list[ContainerInput] = Field(default_factory=list, description="Containers in the guest.")
    restart: choice(*RESTART_POLICIES) = Field(
        default="on-failure",
        description="After a failure that takes it down: 'on-failure' (default) boots it again once the "
                    "failed layer is repaired; 'never' leaves it down.")
    storage: StorageInput = Field(
        default_factory=StorageInput,
        description="Where its image lives: {remote: HOST/DISK} or {remote: [targets], write: all | quorum} "
                    "for a disk on a storage host (a live migration then moves only memory); default: the host's "
                    "first local disk.")
    hypervisor: ProfileRef | None = Field(
        default=None, description="Hypervisor run in the guest (models/hypervisors), a name or {profile, "
        "...overrides}, for nested VMs; a Type 2 one runs on the VM's os. Only in a VM that itself runs under "
        "a hypervisor.")
    vms: list["VMInput"] = Field(
        default_factory=list, description="VMs nested in this one, under its hypervisor (needed), within its "
        "vCPUs and memory; addressed as 'host/vm/nested'. They nest further the same way.")


class HardwareInput(_Input):
    """A machine: a catalog profile, inline numbers, or a profile with overrides."""

    profile: Text | None = Field(default=None, description="Name of a profile in models/hardware.")
    name: Text | None = Field(default=None, description="Label for inline hardware.")
    cores: integer(ge=1) | None = Field(default=None, description="Physical cores.")
    core_speed: number(gt=0) | None = Field(
        default=None, description="Speed of one core relative to the reference core (1.0)."
    )
    sockets: integer(ge=1) | None = Field(default=None, description=SOCKETS)
    threads_per_core: integer(ge=1) | None = Field(default=None, description=THREADS_PER_CORE)
    smt_sibling_factor: number(ge=0, le=1) | None = Field(default=None, description=SMT_SIBLING_FACTOR)
    remote_memory_factor: number(ge=1) | None = Field(default=None, description=REMOTE_MEMORY_FACTOR)
    memory: quantity("size", gt=0) | None = Field(default=None, description="Installed memory, e.g. '64 GiB'.")
    disks: list[DiskProfile] | None = Field(
        default=None, min_length=1,
        description="Disks as in a hardware profile (default: models/devices/nvme-default).")
    nics: list[NicProfile] | None = Field(
        default=None, min_length=1, description="NICs as in a hardware profile (default: models/devices/nic-10gbe).")
    power: PowerModel | None = Field(
        default=None, description="Power model as in a hardware profile: {model: linear, idle_w, max_w} or "
                                  "{model: table, watts: [11 draws at 0 %, 10 %, …, 100 %]}, optional off_w.")
    cost_per_hour: number(ge=0) | None = Field(
        default=None, description="Cost of this host for one powered-on hour, in energy.currency (default USD); "
                                  "overrides energy.cost_per_host_hour.")


COUNT_DESCRIPTION = ("Identical copies of this item, named <name>-1 … <name>-<count> (default 1: one, named as "
                     "written); what runs on a copied host is copied with it.")


class HostInput(_Input):
    """A physical host and what runs on it."""

    name: Name = Field(description="Unique host name.")
    count: integer(ge=1) = Field(default=1, description=COUNT_DESCRIPTION)
    hardware: Annotated[HardwareInput, BeforeValidator(_profile_name_is_mapping), OrAlso(_CATALOG_NAME)] = Field(
        description="A profile name, or a mapping {cores, core_speed, memory, disks, nics} "
        "or {profile, ...overrides}."
    )
    hypervisor: ProfileRef | None = Field(
        default=None, description="Hypervisor (models/hypervisors), a name or {profile, ...overrides}; none: native.")
    host_os: ProfileRef | None = Field(
        default=None, description="Host OS (models/os); required under a Type 2 hypervisor or a host engine.")
    engine: ProfileRef | None = Field(
        default=None, description="Container engine on the host kernel (models/engines).")
    vms: list[VMInput] = Field(default_factory=list, description="Virtual machines on the host.")
    containers: list[ContainerInput] = Field(default_factory=list, description="Containers run on the host itself.")
    memory_overcommit: number(ge=1) = Field(
        default=1.0,
        description="Admission: the memory committed on the host (VM RAM, per-VM overheads, host OS, engine, "
                    "container shims) may be at most this many times its physical memory; 1 (default): none.")
