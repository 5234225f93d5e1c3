"""Typed layer costs: profiles build them, every field required, and composing them changes no result.

``compose`` once read profiles by dotted strings with defaults, so a field the
schema lost (renamed, removed) silently became 0, 1 or ∞. It now folds the
typed objects of ``virtsim.model.costs`` that the profiles build; the previous
composition is kept below, verbatim, as the reference the new one must equal
bit for bit on every catalog stack (the table fingerprints check the rest).
The per-packet costs came later: the reference composes the per-transaction
fields, and the per-packet ones are checked against a fold of their own.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtsim.components.stack import IOPathCost, Layer, PathCost, compose
from virtsim.config import load_profile
from virtsim.config.catalog import catalog_names
from virtsim.config.fields import RESOLVED
from virtsim.config.profiles import EngineProfile, HypervisorProfile
from virtsim.model import costs
from virtsim.model.costs import OP_CLASSES, US

HYPERVISORS = [load_profile("hypervisors", n) for n in catalog_names("hypervisors")]
ENGINES = [load_profile("engines", n) for n in catalog_names("engines")]
SYSTEMS = [load_profile("os", n) for n in catalog_names("os")]
KVM = load_profile("hypervisors", "kvm")
GVISOR = load_profile("engines", "gvisor")
LINUX = load_profile("os", "linux-server")


# --- the previous composition (virtsim/components/stack.py at 03a0ebe), the reference --------------

def _get(obj, dotted: str, default=0.0):
    for part in dotted.split("."):
        if obj is None:
            return default
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return default if obj is None else obj


def previous_compose(layers, native_os) -> PathCost:
    US = 1e-6
    cpu_factor = memory_factor = 1.0
    ops = {k: [0.0, {}, 0.0] for k in OP_CLASSES}
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
    return PathCost(cpu_factor=cpu_factor, memory_factor=memory_factor, native_op_cpu_s=native,
                    ops={k: (v[0], dict(v[1]), v[2]) for k, v in ops.items()},
                    disk=_previous_io(disk), net=_previous_io(net), layers=tuple(names))


def _previous_io(acc: dict) -> IOPathCost:
    return IOPathCost(guest_cpu_s=acc["guest"], host_cpu_s=dict(acc["host"]), latency_s=acc["latency"],
                      ops_limit_per_s=acc["ops_limit"], ops_limit_in=acc["ops_limit_in"],
                      bandwidth_factor=acc["bw_factor"], other_bandwidth_factor=acc["bw_other"],
                      bandwidth_limit_bytes_per_s=acc["bw_limit"],
                      write_host_cpu_s=dict(acc["host_write"]) if acc["write_differs"] else None,
                      write_ops_limit_per_s=acc["ops_limit_write"] if acc["write_differs"] else None)


def per_transaction(path: PathCost) -> PathCost:
    """``path`` without its per-packet costs (the fields the reference composition predates)."""
    net = dataclasses.replace(path.net, send_guest_cpu_per_packet_s=0.0, receive_guest_cpu_per_packet_s=0.0,
                              send_host_cpu_per_packet_s={}, receive_host_cpu_per_packet_s={}, wakes=())
    return dataclasses.replace(path, net=net, disk=dataclasses.replace(path.disk, wakes=()),
                               native_packet_cpu_s=(0.0, 0.0))


def wakes(layers, section: str) -> tuple:
    """The wake-ups of a path's layers, (consumer, seconds) in path order: the reference for ``IOPathCost.wakes``
    (a mode has none; work in the requester waits on the requester)."""
    found = []
    for layer in layers:
        src = None if layer.mode is not None else getattr(layer.profile, section, None)
        if src is not None and getattr(src, "wake_us", 0.0):
            found.append((layer.runs_in, src.wake_us * US))
    return tuple(found)


def packet_costs(layers, native_os) -> tuple:
    """The per-packet costs of a path, folded from the profiles' fields: the reference for them."""
    guest = [0.0, 0.0]
    host: tuple[dict, dict] = ({}, {})
    for layer in layers:
        if layer.mode is not None and layer.kind != "network":
            continue
        net = layer.mode if layer.mode is not None else getattr(layer.profile, "net", None)
        if net is None:
            continue
        sent = (net.guest_cpu_per_packet_us, net.host_cpu_per_packet_us)
        received = (_get(net, "receive_guest_cpu_per_packet_us", None),
                    _get(net, "receive_host_cpu_per_packet_us", None))
        for way, (g, h) in enumerate((sent, tuple(s if r is None else r for s, r in zip(sent, received)))):
            guest[way] += g * US
            if h:
                host[way][layer.runs_in] = host[way].get(layer.runs_in, 0.0) + h * US
    native = (0.0, 0.0) if native_os is None else (
        native_os.net.send_cpu_per_packet_us * US,
        _get(native_os, "net.receive_cpu_per_packet_us", native_os.net.send_cpu_per_packet_us) * US)
    return tuple(guest), host, native


# --- every catalog stack ---------------------------------------------------------------------------

def _engine_layers(engine, network: str, storage: str, runs_in: str, vmm: str) -> list[Layer]:
    """The layers a container adds (as the platform builds them): modes, engine, a sandbox's microVM."""
    layers = [Layer("network", engine, runs_in, engine.network_modes[network], network),
              Layer("storage", engine, runs_in, engine.storage_modes[storage], storage),
              Layer("engine", engine, runs_in)]
    if engine.composition is not None:
        layers.append(Layer("hypervisor", engine.composition.hypervisor, vmm))
    return layers


def _containers(engine):
    return itertools.product(engine.network_modes, engine.storage_modes)


def catalog_stacks():
    """(label, layers, native OS) for every stack the catalog can make, nested VMs one level deep."""
    for os_ in SYSTEMS:
        yield f"native {os_.name}", [], os_
    yield "bare metal", [], None
    for hyp, os_ in itertools.product(HYPERVISORS, SYSTEMS):
        yield f"{hyp.name} / {os_.name}", [Layer("hypervisor", hyp, "h/a.vmm")], os_
    for outer, inner in itertools.product(HYPERVISORS, HYPERVISORS):
        yield (f"{inner.name} in {outer.name}",
               [Layer("hypervisor", inner, "h/a/b.vmm"), Layer("hypervisor", outer, "h/a.vmm")], LINUX)
    for engine in ENGINES:
        sandbox_os = engine.composition.guest_os if engine.composition is not None else None
        for network, storage in _containers(engine):
            label = f"{engine.name}:{network}/{storage}"
            yield f"{label} on a host", _engine_layers(engine, network, storage, "h/e", "h/c.vmm"), \
                sandbox_os or LINUX
            for hyp in HYPERVISORS:
                yield (f"{label} in {hyp.name}",
                       _engine_layers(engine, network, storage, "h/a", "h/a/c.vmm")
                       + [Layer("hypervisor", hyp, "h/a.vmm")], sandbox_os or LINUX)


STACKS = list(catalog_stacks())


@pytest.mark.parametrize(("layers", "native_os"), [(layers, os_) for _, layers, os_ in STACKS],
                         ids=[label for label, _, _ in STACKS])
def test_compose_over_the_typed_costs_equals_the_previous_composition(layers, native_os):
    new, old = compose(layers, native_os), previous_compose(layers, native_os)
    # repr: every float to the last bit, and the order of every mapping (the order charges are made in).
    assert repr(per_transaction(new)) == repr(old)
    assert (new.disk.wakes, new.net.wakes) == (wakes(layers, "disk"), wakes(layers, "net"))
    assert new.disk.coalescing == new.net.coalescing == ()  # no catalog profile coalesces (no data to fit it)
    guest, host, native = packet_costs(layers, native_os)
    net = new.net
    assert (net.send_guest_cpu_per_packet_s, net.receive_guest_cpu_per_packet_s) == pytest.approx(guest, rel=1e-12)
    assert (net.send_host_cpu_per_packet_s, net.receive_host_cpu_per_packet_s) == host
    assert new.native_packet_cpu_s == pytest.approx(native, rel=1e-12)


def test_the_catalog_stacks_cover_every_layer_and_mode():
    assert len(STACKS) > 300
    labels = {layer.label for _, layers, _ in STACKS for layer in layers}
    assert {h.name for h in HYPERVISORS} <= labels
    assert {f"{e.name}:network={m}" for e in ENGINES for m in e.network_modes} <= labels
    assert {f"{e.name}:storage={m}" for e in ENGINES for m in e.storage_modes} <= labels


_FRACTION = st.floats(min_value=0.01, max_value=1.0)
_US = st.floats(min_value=0.0, max_value=1e4)
_LIMIT = st.one_of(st.none(), st.floats(min_value=1.0, max_value=1e7))
_OPTIONAL_FRACTION = st.one_of(st.none(), _FRACTION)


def _path(**optional):
    return st.fixed_dictionaries({"guest_cpu_us": _US, "host_cpu_us": _US, "latency_us": _US,
                                  "bandwidth_factor": _FRACTION}, optional=optional)


@given(disk=_path(write_bandwidth_factor=_OPTIONAL_FRACTION, write_host_cpu_us=st.one_of(st.none(), _US),
                  iops_limit=_LIMIT, write_iops_limit=_LIMIT, bandwidth_limit=_LIMIT),
       net=_path(receive_bandwidth_factor=_OPTIONAL_FRACTION, bandwidth_limit=_LIMIT),
       mode=_path(write_bandwidth_factor=_OPTIONAL_FRACTION, receive_bandwidth_factor=_OPTIONAL_FRACTION),
       factors=st.tuples(st.floats(min_value=1.0, max_value=3.0), st.floats(min_value=1.0, max_value=3.0)))
def test_compose_equals_the_previous_composition_whatever_the_cost_fields_hold(disk, net, mode, factors):
    # Every cost field, optional ones given or not, through a hypervisor under an engine in a VM:
    # the paths where reads and writes differ, ceilings move and bandwidth factors multiply.
    cpu = {"factor": factors[0], "memory_factor": factors[1]}
    hyp = HypervisorProfile.model_validate({**KVM.model_dump(), "cpu": cpu, "disk": disk, "net": net},
                                           context={RESOLVED: True})
    engine = EngineProfile.model_validate(
        {**GVISOR.model_dump(), "network_modes": {"nat": mode}, "storage_modes": {"volume": mode}},
        context={RESOLVED: True})
    layers = _engine_layers(engine, "nat", "volume", "h/a", "h/a/c.vmm") + [
        Layer("hypervisor", hyp, "h/a.vmm"), Layer("hypervisor", KVM, "h.vmm")]
    assert repr(per_transaction(compose(layers, LINUX))) == repr(previous_compose(layers, LINUX))


# --- a field the composition needs, missing: an error naming it, never a default ------------------

def _without(part, dotted: str):
    """A copy of the profile part ``part`` whose schema lacks the field at ``dotted`` (as if renamed)."""
    key, _, rest = dotted.partition(".")
    copy = part.model_copy()
    if rest:
        copy.__dict__[key] = _without(getattr(part, key), rest)
    else:
        del copy.__dict__[key]
    return copy


_OPS = [f"ops.{k}.{f}" for k in OP_CLASSES for f in ("guest_cpu_us", "host_cpu_us", "latency_us")]
_IO = ["guest_cpu_us", "host_cpu_us", "latency_us", "bandwidth_factor"]
_PACKET = ["guest_cpu_per_packet_us", "host_cpu_per_packet_us", "receive_guest_cpu_per_packet_us",
           "receive_host_cpu_per_packet_us"]
HYPERVISOR_FIELDS = ["cpu.factor", "cpu.memory_factor", "cpu.kernel_factor", *_OPS,
                     *(f"disk.{f}" for f in [*_IO, "write_bandwidth_factor", "write_host_cpu_us", "iops_limit",
                                             "write_iops_limit", "bandwidth_limit"]),
                     *(f"net.{f}" for f in [*_IO, "receive_bandwidth_factor", "bandwidth_limit", *_PACKET])]
ENGINE_FIELDS = ["cpu.factor", "cpu.memory_factor", "cpu.kernel_factor", *_OPS]


@pytest.mark.parametrize("dotted", HYPERVISOR_FIELDS)
def test_a_hypervisor_field_the_composition_needs_missing_fails_naming_it(dotted):
    broken = _without(KVM, dotted)
    with pytest.raises(AttributeError, match=f"attribute '{dotted.rsplit('.', 1)[1]}'"):
        compose([Layer("hypervisor", broken, "h/a.vmm")], LINUX)


@pytest.mark.parametrize("dotted", ENGINE_FIELDS)
def test_an_engine_field_the_composition_needs_missing_fails_naming_it(dotted):
    broken = _without(GVISOR, dotted)
    with pytest.raises(AttributeError, match=f"attribute '{dotted.rsplit('.', 1)[1]}'"):
        compose([Layer("engine", broken, "h/e")], LINUX)


@pytest.mark.parametrize(("kind", "field"), [*(("network", f) for f in [*_IO, "receive_bandwidth_factor", *_PACKET]),
                                             *(("storage", f) for f in [*_IO, "write_bandwidth_factor"])])
def test_a_mode_field_the_composition_needs_missing_fails_naming_it(kind, field):
    mode = GVISOR.network_modes["nat"] if kind == "network" else GVISOR.storage_modes["volume"]
    with pytest.raises(AttributeError, match=f"attribute '{field}'"):
        compose([Layer(kind, GVISOR, "h/e", _without(mode, field), "x")], LINUX)


@pytest.mark.parametrize("op_class", OP_CLASSES)
def test_a_native_operation_cost_missing_from_the_os_fails_naming_it(op_class):
    with pytest.raises(AttributeError, match=f"attribute '{op_class}'"):
        compose([], _without(LINUX, f"ops.{op_class}"))


@pytest.mark.parametrize("field", ["send_cpu_per_packet_us", "receive_cpu_per_packet_us"])
def test_a_native_packet_cost_missing_from_the_os_fails_naming_it(field):
    with pytest.raises(AttributeError, match=f"attribute '{field}'"):
        compose([], _without(LINUX, f"net.{field}"))


COST_TYPES = [costs.CpuFactors, costs.OpCost, costs.PerClass, costs.IOCost, costs.LayerCost, costs.PacketCost,
              costs.NativePacketCost]


@pytest.mark.parametrize("cls", COST_TYPES, ids=lambda cls: cls.__name__)
def test_every_field_of_a_cost_object_is_required(cls):
    fields = dataclasses.fields(cls)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)
    given_all_but_last = {f.name: None for f in fields[:-1]}
    with pytest.raises(TypeError, match=f"'{fields[-1].name}'"):
        cls(**given_all_but_last)


def test_a_profile_builds_its_costs_in_seconds_from_its_fields():
    cost = KVM.layer_cost()
    assert cost.name == "kvm" and cost.cpu == costs.CpuFactors(KVM.cpu.factor, KVM.cpu.memory_factor,
                                                                         KVM.cpu.kernel_factor)
    assert cost.ops.page_fault == costs.OpCost(KVM.ops.page_fault.guest_cpu_us * 1e-6,
                                               KVM.ops.page_fault.host_cpu_us * 1e-6,
                                               KVM.ops.page_fault.latency_us * 1e-6)
    # KVM's disk path gives write figures of its own; the network path has no ceiling on transactions.
    assert (cost.disk.write_host_cpu_s, cost.disk.write_ops_limit_per_s) == (
        KVM.disk.write_host_cpu_us * 1e-6, KVM.disk.write_iops_limit)
    assert cost.disk.ops_limit_per_s == KVM.disk.iops_limit and cost.net.ops_limit_per_s == float("inf")
    engine = GVISOR.layer_cost()
    assert (engine.disk, engine.net) == (None, None)  # an engine's I/O costs are its modes'
    nat = GVISOR.network_modes["nat"]
    assert nat.network_cost().other_bandwidth_factor == nat.receive_bandwidth_factor
    volume = GVISOR.storage_modes["volume"]
    assert volume.storage_cost().other_bandwidth_factor == volume.write_bandwidth_factor
    assert dict(LINUX.ops.cost().items()) == {k: getattr(LINUX.ops, k) * 1e-6 for k in OP_CLASSES}
