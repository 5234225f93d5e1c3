"""What one operation costs through a stack: per-operation overhead composed along a path.

A consumer (a VM, a container, a host) reaches the hardware through a path of
layers, top to bottom: container engine mode (network / storage), engine, guest
OS, hypervisor, host OS. Each layer adds, per operation class, CPU charged to
the requester (``guest_cpu_us``), CPU burnt by the layer's own threads where the
layer runs (``host_cpu_us``), and pure delay (``latency_us``); it may slow user
CPU work by a factor, and put a ceiling on I/O. The cost of one operation is the
sum over the layers of its path plus the native cost (DESIGN §2.4).

Pure arithmetic on resolved profiles: nothing here knows SimPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

OP_CLASSES = ("syscall", "ctx_switch", "page_fault", "fork")
"""Operation classes counted per request; their native CPU cost comes from the OS profile."""

US = 1e-6


@dataclass(frozen=True)
class OpCost:
    """Added cost of one operation in one layer, in seconds."""

    guest_cpu_s: float = 0.0
    host_cpu_s: float = 0.0
    latency_s: float = 0.0


@dataclass(frozen=True)
class IOPathCost:
    """Cost of one disk operation or network transaction through a path."""

    guest_cpu_s: float = 0.0
    """CPU work per operation charged to the requester (reference-core seconds)."""
    host_cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU work per operation charged to each layer's own consumer, by consumer path."""
    latency_s: float = 0.0
    """Added delay per operation, on top of the device's own latency."""
    ops_limit_per_s: float = float("inf")
    """Ceiling on operations per second through this path (e.g. a VMM's I/O thread)."""
    ops_limit_in: str | None = None
    """The consumer where the ceiling sits: each operation holds it for at least
    ``1 / ops_limit_per_s`` seconds of its single thread, so the ceiling emerges
    from sharing that thread rather than being imposed on the device."""
    bandwidth_factor: float = 1.0
    """Fraction of the device bandwidth this path can reach (disk reads, network sends)."""
    other_bandwidth_factor: float = 1.0
    """The same the other way: disk writes, network receives."""
    bandwidth_limit_bytes_per_s: float = float("inf")
    """Ceiling on bytes per second through this path."""
    write_host_cpu_s: dict[str, float] | None = None
    """Disks: ``host_cpu_s`` for a write, where it differs (None: the same as a read)."""
    write_ops_limit_per_s: float | None = None
    """Disks: ``ops_limit_per_s`` for writes, where it differs (None: the same)."""

    def for_write(self) -> IOPathCost:
        """The costs a write pays (a read's, where no write figure is given)."""
        if self.write_host_cpu_s is None and self.write_ops_limit_per_s is None:
            return self
        return replace(self, host_cpu_s=self.write_host_cpu_s if self.write_host_cpu_s is not None
                       else self.host_cpu_s,
                       ops_limit_per_s=self.write_ops_limit_per_s if self.write_ops_limit_per_s is not None
                       else self.ops_limit_per_s,
                       write_host_cpu_s=None, write_ops_limit_per_s=None)


@dataclass(frozen=True)
class Layer:
    """One layer of a path, with the consumer where its own work runs.

    ``runs_in`` is the path of the consumer charged with ``host_cpu_us``: the
    physical host's node for the hypervisor or a host engine, the VM itself
    for an engine inside a VM (its kernel does that work).
    """

    kind: str
    """``hypervisor``, ``engine``, ``network``, ``storage`` or ``os``."""
    profile: object
    runs_in: str
    mode: object | None = None
    """For ``network``/``storage`` layers: the engine's mode profile."""
    mode_name: str | None = None

    @property
    def label(self) -> str:
        """E.g. ``kvm``, ``docker``, ``docker:network=nat``."""
        name = getattr(self.profile, "name", None) or str(self.profile)
        return name if self.mode_name is None else f"{name}:{self.kind}={self.mode_name}"


@dataclass(frozen=True)
class PathCost:
    """Everything a request needs to know about its path, composed once per consumer."""

    cpu_factor: float = 1.0
    memory_factor: float = 1.0
    native_op_cpu_s: dict[str, float] = field(default_factory=dict)
    """Native CPU cost of one operation of each class, from the OS the request runs on."""
    ops: dict[str, tuple[float, dict[str, float], float]] = field(default_factory=dict)
    """Per class: (added guest CPU s, {consumer path: host CPU s}, added latency s)."""
    disk: IOPathCost = field(default_factory=IOPathCost)
    net: IOPathCost = field(default_factory=IOPathCost)
    layers: tuple[str, ...] = ()
    """Names of the layers, top to bottom, for reports."""

    def charged_consumers(self) -> set[str]:
        """Paths of the consumers where this path's layers do their own work."""
        where = {w for _, host, _ in self.ops.values() for w in host}
        for io in (self.disk, self.net):
            where |= set(io.host_cpu_s)
            if io.ops_limit_in is not None:
                where.add(io.ops_limit_in)
        return where

    @property
    def is_native(self) -> bool:
        """True when no layer adds anything (a bare host, or containers at no cost)."""
        return not self.layers


def _get(obj, dotted: str, default=0.0):
    """``obj.a.b`` for a dotted path, or ``default`` if any part is missing or None."""
    for part in dotted.split("."):
        if obj is None:
            return default
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return default if obj is None else obj


def compose(layers: list[Layer], native_os) -> PathCost:
    """Sum the per-operation costs of ``layers`` (top to bottom) over a native OS."""
    cpu_factor = memory_factor = 1.0
    ops: dict[str, list] = {k: [0.0, {}, 0.0] for k in OP_CLASSES}
    disk, net = ({"guest": 0.0, "host": {}, "latency": 0.0, "ops_limit": float("inf"), "ops_limit_in": None,
                  "bw_factor": 1.0, "bw_other": 1.0, "bw_limit": float("inf"), "host_write": {},
                  "write_differs": False, "ops_limit_write": float("inf")} for _ in range(2))
    names = []
    for layer in layers:
        p = layer.profile if layer.mode is None else layer.mode
        names.append(layer.label)
        if layer.mode is None:
            cpu_factor *= _get(p, "cpu.factor", 1.0)
            memory_factor *= _get(p, "cpu.memory_factor", 1.0)
            for k in OP_CLASSES:
                cost = ops[k]
                cost[0] += _get(p, f"ops.{k}.guest_cpu_us") * US
                host = _get(p, f"ops.{k}.host_cpu_us") * US
                if host:
                    cost[1][layer.runs_in] = cost[1].get(layer.runs_in, 0.0) + host
                cost[2] += _get(p, f"ops.{k}.latency_us") * US
        for acc, section in ((disk, "disk"), (net, "net")):
            if layer.mode is not None and layer.kind != {"disk": "storage", "net": "network"}[section]:
                continue
            src = p if layer.mode is not None else _get(p, section, None)
            if src is None:
                continue
            acc["guest"] += _get(src, "guest_cpu_us") * US
            host = _get(src, "host_cpu_us") * US
            if host:
                acc["host"][layer.runs_in] = acc["host"].get(layer.runs_in, 0.0) + host
            acc["latency"] += _get(src, "latency_us") * US
            write_host = _get(src, "write_host_cpu_us", None)
            write_host = host if write_host is None else write_host * US
            if write_host:
                acc["host_write"][layer.runs_in] = acc["host_write"].get(layer.runs_in, 0.0) + write_host
            limit = _get(src, "iops_limit", float("inf"))
            write_limit = _get(src, "write_iops_limit", None)
            acc["write_differs"] |= write_host != host or write_limit is not None
            write_limit = limit if write_limit is None else write_limit
            if limit < acc["ops_limit"] or write_limit < acc["ops_limit_write"]:
                acc["ops_limit_in"] = layer.runs_in
            acc["ops_limit"] = min(acc["ops_limit"], limit)
            acc["ops_limit_write"] = min(acc["ops_limit_write"], write_limit)
            factor = _get(src, "bandwidth_factor", 1.0)
            other = _get(src, "write_bandwidth_factor" if section == "disk" else "receive_bandwidth_factor", None)
            acc["bw_factor"] *= factor
            acc["bw_other"] *= factor if other is None else other
            acc["bw_limit"] = min(acc["bw_limit"], _get(src, "bandwidth_limit", float("inf")))
    native = {k: _get(native_os, f"ops.{k}") * US for k in OP_CLASSES} if native_os is not None else {}
    return PathCost(
        cpu_factor=cpu_factor,
        memory_factor=memory_factor,
        native_op_cpu_s=native,
        ops={k: (v[0], dict(v[1]), v[2]) for k, v in ops.items()},
        disk=_io(disk),
        net=_io(net),
        layers=tuple(names),
    )


def _io(acc: dict) -> IOPathCost:
    return IOPathCost(guest_cpu_s=acc["guest"], host_cpu_s=dict(acc["host"]), latency_s=acc["latency"],
                      ops_limit_per_s=acc["ops_limit"], ops_limit_in=acc["ops_limit_in"],
                      bandwidth_factor=acc["bw_factor"], other_bandwidth_factor=acc["bw_other"],
                      bandwidth_limit_bytes_per_s=acc["bw_limit"],
                      write_host_cpu_s=dict(acc["host_write"]) if acc["write_differs"] else None,
                      write_ops_limit_per_s=acc["ops_limit_write"] if acc["write_differs"] else None)
