"""A host's processor topology: sockets, cores, hardware threads, and what they cost.

Plain arithmetic, shared by config (checks), the components (the CPU's
capacity) and the workloads (the memory cost of a request).

**SMT.** A core runs ``threads_per_core`` hardware threads. Busy threads up to
the number of cores each get a full core; every busy thread beyond that (a
core's second, third … thread) adds only ``smt_sibling_factor`` of a core, up
to all hardware threads busy. So the CPU's capacity, in cores, is

    capacity(n) = cores + smt_sibling_factor × clamp(n − cores, 0, cores × (threads_per_core − 1))

for ``n`` busy threads (time-averaged: a fluid, so ``n`` may be fractional);
with ``threads_per_core`` 1 it is ``cores`` whatever ``n``, as without SMT.
The busy threads are the demand of the host's sharing tree, in cores: every
activity thread and every vCPU that wants to run counts one, capped where its
VM's vCPUs or its container's limit cap it.

**NUMA.** Memory sits on ``sockets`` sockets; an access to another socket's
memory costs ``remote_memory_factor`` times a local one. A program whose memory
is interleaved over the ``s`` sockets its threads (or its VM's vCPUs) span
makes ``(s − 1) / s`` of its accesses remote; one that keeps each thread's data
on the thread's own socket (``local``) makes none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["LOCALITIES", "CpuTopology", "remote_share", "smt_capacity_cores"]

LOCALITIES = ("interleaved", "local")
"""Where a program's memory is: spread over the sockets it spans, or on each thread's own socket."""


def smt_capacity_cores(busy_threads: float, cores: int, threads_per_core: int, sibling_factor: float) -> float:
    """Cores' worth of throughput with ``busy_threads`` hardware threads busy (see the module docstring)."""
    extra = busy_threads - cores
    if threads_per_core <= 1 or extra <= 0.0:
        return float(cores)
    span = cores * (threads_per_core - 1)
    return cores + sibling_factor * (extra if extra < span else span)


def remote_share(sockets_spanned: int, locality: str = "interleaved") -> float:
    """Fraction of memory accesses that go to another socket."""
    if locality == "local" or sockets_spanned <= 1:
        return 0.0
    return (sockets_spanned - 1) / sockets_spanned


@dataclass(frozen=True)
class CpuTopology:
    """One host's processors: ``cores`` in all, on ``sockets`` sockets, ``threads_per_core`` threads each."""

    cores: int
    sockets: int = 1
    threads_per_core: int = 1
    smt_sibling_factor: float = 0.0
    remote_memory_factor: float = 1.0

    @property
    def hardware_threads(self) -> int:
        """Threads the host can run at once: cores × threads per core."""
        return self.cores * self.threads_per_core

    @property
    def threads_per_socket(self) -> int:
        return self.hardware_threads // self.sockets

    @property
    def max_capacity_cores(self) -> float:
        """Throughput with every hardware thread busy, in cores."""
        return smt_capacity_cores(self.hardware_threads, self.cores, self.threads_per_core, self.smt_sibling_factor)

    def capacity_cores(self, busy_threads: float) -> float:
        return smt_capacity_cores(busy_threads, self.cores, self.threads_per_core, self.smt_sibling_factor)

    def alone_cores(self, threads: int) -> float:
        """Cores' worth one job of ``threads`` threads gets with the host to itself."""
        if threads <= self.cores:
            return threads
        return min(float(threads), self.capacity_cores(threads))

    def sockets_for(self, threads: int) -> int:
        """The fewest sockets whose hardware threads hold ``threads`` (at most all of them)."""
        return min(self.sockets, max(1, math.ceil(threads / self.threads_per_socket)))

    def remote_extra(self, sockets_spanned: int, locality: str = "interleaved") -> float:
        """What remote accesses add to memory-intensive work, as a multiple of its local time."""
        if self.remote_memory_factor == 1.0:
            return 0.0
        return (self.remote_memory_factor - 1.0) * remote_share(sockets_spanned, locality)
