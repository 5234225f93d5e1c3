"""Builds the fluid loads of an experiment's ``loads`` on a platform."""

from __future__ import annotations

import numpy as np

from ..components.platform import BACKGROUND_HORIZON_S
from ..config.loads import load_trace
from ..workloads.fluid import FluidLoad, StepReplay


class TraceLoads:
    """Every trace-driven consumer of a run: its CPU (and Bitbrains disk and network) replays; pods' CPU requests.

    ``memory`` maps a consumer path to its memory-in-use series (Bitbrains) and
    the trace offset, for the results.
    """

    def __init__(self, env, platform, loads):
        self.replays: list[StepReplay] = []
        self.memory: dict[str, tuple] = {}
        self._platform = platform
        self._by_target: dict[str, list[tuple[str, int, FluidLoad, float]]] = {}
        """Per target: (kind, device index, load, its core speed or device bandwidth where it was built)."""
        for load in loads:
            trace = load_trace(load)
            for target, row in zip(load.targets, trace.rows):
                self._add(env, platform, load, target, row)

    def _add(self, env, platform, load, target: str, row) -> None:
        consumer = platform.consumer(target)
        # A container's size is its cpus limit (its node's cap, or under a CFS quota its quota rate).
        size = (consumer.node.resource.max_capacity if consumer.kind == "host"
                else consumer.size_cores * consumer.core_speed if consumer.kind == "container" else consumer.node.cap)
        if load.type == "pods":
            # Cores requested, at the host's core speed; not limited here, so a host's
            # overload (or a VM's cap) shows what the pods wanted beyond it.
            scale, offset = consumer.core_speed, 0.0  # the series already starts at start_s
            most = max(size, float(row.cpu.values.max()) * scale)
        else:
            # A fraction of the consumer's size (its vCPUs or cpus limit, at the host's core speed).
            scale, offset, most = size, load.start_s, size
        cpu = FluidLoad(consumer.node, f"{load.name}:{row.name}", most)
        self.replays.append(StepReplay(env, row.cpu, cpu.set_rate, scale, offset))
        mine = self._by_target.setdefault(target, [])
        mine.append(("cpu", 0, cpu, consumer.core_speed))
        if row.memory_bytes is not None:
            self.memory[target] = (row.memory_bytes, offset)
        if row.disk_bytes_per_s is not None and platform.disks[consumer.host]:
            disk = platform.disks[consumer.host][0]
            node = disk.node_for(target)
            # Bytes per second as the share of the device they keep busy (one device-second per second).
            load_ = FluidLoad(node, load.name, node.cap)
            self.replays.append(StepReplay(env, row.disk_bytes_per_s, load_.set_rate,
                                           1.0 / disk.spec.bandwidth_bytes_per_s, offset))
            mine.append(("disk", 0, load_, disk.spec.bandwidth_bytes_per_s))
        fabric = platform.fabric
        if row.net_bytes_per_s is not None and fabric is not None and fabric.attached(consumer.host):
            # Over the network: what it sends and receives (the trace sums them) leaves by its host's link.
            from ..components.network import FabricLoad  # only with a network, as the simulation's Fabric

            load_ = FabricLoad(fabric.outside(target, True), BACKGROUND_HORIZON_S)
            self.replays.append(StepReplay(env, row.net_bytes_per_s, load_.set_rate, 1.0, offset))
        elif row.net_bytes_per_s is not None and platform.nics[consumer.host]:
            nic = platform.nics[consumer.host][0]
            node = nic.node_for(target)
            load_ = FluidLoad(node, load.name, node.cap)
            self.replays.append(StepReplay(env, row.net_bytes_per_s, load_.set_rate, 1.0, offset))
            mine.append(("nic", 0, load_, 1.0))

    def moved(self, path: str) -> None:
        """The VM ``path`` now runs on another host (a live migration): its loads follow it there.

        Its CPU load becomes a child of its new CPU node, scaled by the two hosts' core speeds (the series is
        a fraction of the VM's vCPUs); its disk load a child of its share of the new host's disk, scaled by
        the two disks' bandwidths (the series is bytes per second); its NIC load of its new NIC share.
        """
        platform = self._platform
        consumer = platform.consumers[path]
        for kind, d, load, built in self._by_target.get(path, ()):
            if kind == "cpu":
                load.move_to(consumer.node, consumer.core_speed / built)
            elif kind == "disk" and platform.disks[consumer.host]:
                disk = platform.disks[consumer.host][min(d, len(platform.disks[consumer.host]) - 1)]
                load.move_to(disk.node_for(path), built / disk.spec.bandwidth_bytes_per_s)
            elif kind == "nic" and platform.nics[consumer.host]:
                load.move_to(platform.nics[consumer.host][0].node_for(path), 1.0)

    def start(self) -> None:
        for replay in self.replays:
            replay.start()

    def memory_means(self, table) -> np.ndarray:
        """For each row of a time-series table: the mean memory in use over its interval, bytes (NaN if untraced)."""
        out = np.full(len(table), np.nan)
        paths = table["consumer"].to_numpy()
        starts, ends = table["start_s"].to_numpy(), table["time_s"].to_numpy()
        for path, (series, offset) in self.memory.items():
            for i in np.flatnonzero(paths == path):
                span = ends[i] - starts[i]
                if span > 0:
                    out[i] = series.integral(starts[i] + offset, ends[i] + offset) / span
        return out

    def memory_peaks(self, start_s: float, end_s: float) -> dict[str, float]:
        """Per Bitbrains-driven consumer: the most memory in use at any time in [start_s, end_s], bytes."""
        return {path: series.peak(start_s + offset, end_s + offset)
                for path, (series, offset) in self.memory.items()}
