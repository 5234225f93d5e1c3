"""Published rows the current model cannot reproduce: why, and what would fix it.

A row listed here is reported as ``GAP`` instead of ``FAIL`` when it is out of
tolerance. The tests mark these rows ``xfail(strict=True)``, so a fix that
brings one within tolerance fails the suite until the row is removed from this
table. Rows marked "by design" compare a profile with a measurement it
deliberately does not represent (its ``source`` says so); the others name the
mechanism or number at fault.
"""

from __future__ import annotations

_NIC_ONE_WAY = (
    "the NIC latency_us is one-way (half FELTER's native round trip, 37.58 / 2 = 18.8 µs; models/README: "
    "'one-way time of one message, half a native round trip'), but virtsim/workloads/requests.py "
    "(_Request._net_latency and RequestPlan.breakdown) charges it once per transaction, whose definition is "
    "'one request in and one response out': a native round trip simulates as 19.0 µs. The layers are right "
    "(the added-latency rows pass). Fix: charge 2 × nic.latency_s per transaction in requests.py; with that, "
    "native 37.8 µs, KVM 70.3 µs, Docker NAT 77.1 µs, all within 10%")

_KVM_DISK_CEILING = (
    "kvm.yaml disk.host_cpu_us = 21.7 and disk.iops_limit = 46,173 are both 1 / 46,173 s of WALL time on the "
    "FELTER host, but CPU costs are reference-core µs (a felter-x3650m4 core, core_speed 0.83, needs 26.1 µs "
    "for them) and requests.py (RequestPlan.cpu_work) turns iops_limit into a floor of 1 / iops_limit "
    "reference-core seconds of VMM work, which also scales with core speed: the VMM thread saturates at "
    "46,173 × 0.83 ≈ 38,300 IOPS. Fix: disk.host_cpu_us 21.7 → 18.0 (= 21.7 × 0.83) in models/hypervisors/"
    "kvm.yaml, and in requests.py divide the floor by the layer node's speed (floor = core_speed / "
    "ops_limit_per_s) so that iops_limit is operations per second as models/README documents")

_KVM_DISK_LATENCY = (
    "the kvm disk path has no added latency (disk.latency_us absent): its whole extra cost is the serialized "
    "VMM work fitted on QD128, so at QD16 the model sits on the VMM ceiling (~38k IOPS, ~420 µs) while FELTER "
    "measured 24,793 IOPS — below the QD128 ceiling — with clat 633 µs: ≈ +350 µs per I/O of pure delay "
    "(QEMU 1.5 AIO completion and interrupt injection), as the +419 µs of the QD1 1 MB read also shows (§2.3). "
    "The profile's '+23 µs serialized' derivation reads Little's law at QD16 as a service time. Fix: "
    "models/hypervisors/kvm.yaml disk.latency_us ≈ 330 (with the ceiling fix: QD16 24,450 IOPS and 649 µs, "
    "QD128 45,200 IOPS, sequential 1 MB unchanged)")

KNOWN_GAPS: dict[str, str] = {
    # --- CPU / memory -------------------------------------------------------------------------------
    "felter-linpack-kvm-untuned": (
        "by design: kvm.yaml is FELTER's KVM-tuned configuration (cpu.factor 1.023); the untuned loss comes "
        "from the guest seeing 32 sockets × 1 core (cache topology hidden from MKL), which the per-operation "
        "model has no mechanism for. A cpu.factor override cannot fit both untuned rows (Linpack loses 15% "
        "more than tuned, PXZ 5%): a topology term would be workload-specific"),
    "felter-pxz-kvm-untuned": (
        "by design: as felter-linpack-kvm-untuned (kvm.yaml models the tuned configuration; untuned PXZ "
        "loses a further 5% that no profile number represents)"),
    "felter-ra2s-kvm": (
        "kvm.yaml cpu.memory_factor 1.163 was fitted on single-socket RandomAccess (0.860, which passes); on "
        "two sockets remote-memory latency over QPI dominates native and KVM alike and hides the page-walk "
        "penalty (calibration README §2.1 note). The model has no NUMA mechanism: the slowdown is a fixed "
        "factor on the memory-intensive fraction. Fix: a NUMA-aware memory cost (e.g. a memory_factor that "
        "depends on whether a VM spans sockets) in virtsim/components/stack.py and the hypervisor schema"),
    # --- network ------------------------------------------------------------------------------------
    "felter-tcprr-rtt-native": _NIC_ONE_WAY,
    "felter-tcprr-rtt-kvm": _NIC_ONE_WAY,
    "felter-tcprr-rtt-docker": _NIC_ONE_WAY,
    "felter-tcprr-tps-native": _NIC_ONE_WAY,
    "felter-tcprr-tps-kvm": _NIC_ONE_WAY,
    "felter-udprr-rtt-native": _NIC_ONE_WAY,
    "felter-udprr-rtt-kvm": _NIC_ONE_WAY,
    "xen-ttcp500-tx-xen": (
        "a bulk transfer is one transaction in the model: xen.yaml net.host_cpu_us (1.9 µs, derived from these "
        "very MTU 500 rows as a per-packet cost) is charged once per transaction, never per packet, and the "
        "NIC is shared by bytes only, so the CPU-bound small-packet regime of a 2003 CPU cannot appear. Fix: "
        "charge network CPU per MTU-sized segment of a transaction's bytes (requests.py net phase; an MTU in "
        "the NIC schema)"),
    "xen-ttcp500-rx-xen": "as xen-ttcp500-tx-xen (no per-packet cost for bulk bytes)",
    "xen-ttcp1500-tx-vmware-workstation": (
        "by design: vmware-workstation.yaml models a modern Workstation with a paravirtual NIC "
        "(net.bandwidth_factor 0.95); WS 3.2's emulated pcnet32 (0.32 TX / 0.69 RX) is cited there as a "
        "pre-VT upper bound only"),
    "xen-ttcp1500-rx-vmware-workstation": "by design: as xen-ttcp1500-tx-vmware-workstation",
    "gvisor-iperf-download": (
        "the model has no direction: gvisor.yaml network_modes.nat.bandwidth_factor 0.77 is the mean of "
        "download 0.858 and upload 0.679, so each direction is off by ~±12%. Fix: separate receive/transmit "
        "bandwidth factors in the engine schema and a direction in the demand's net"),
    "gvisor-iperf-upload": "as gvisor-iperf-download (one bandwidth factor for both directions)",
    # --- storage ------------------------------------------------------------------------------------
    "felter-fio-randread-kvm": _KVM_DISK_CEILING,
    "felter-fio-randwrite-kvm": (
        _KVM_DISK_CEILING + "; and even then one iops_limit (46,173, from reads) caps writes, which reached "
        "59,321: a separate write ceiling (e.g. disk.write_iops_limit in the hypervisor schema) is needed"),
    "felter-fio-qd16-iops-kvm": _KVM_DISK_LATENCY,
    "felter-fio-qd16-clat-kvm": _KVM_DISK_LATENCY,
    "felter-fio-qd16-clat-native": (
        "felter-x3650m4 disks.flash0.latency_us = 260 is the QD16 clat average, which already contains the "
        "queueing at 58.7k IOPS; the simulator adds its own (processor-sharing) queueing on the 84,044-IOPS "
        "device, ≈ 30 µs at QD16, so the queueing is counted twice. Fix: latency_us ≈ 230 in "
        "models/hardware/felter-x3650m4.yaml (the unloaded time; then QD16 259 µs and 61k IOPS, QD128 "
        "unchanged)"),
    "felter-fio-qd16-clat-docker": "as felter-fio-qd16-clat-native (Docker volumes add nothing)",
    "felter-fio-seqread-qd1-native": (
        "one 1 MB read alone takes 1,850 µs natively (clat), 550 µs more than its transfer at the 806.9 MB/s "
        "aggregate: a single request cannot use the whole 2 × 8 Gb FC pipeline. The disk model charges only "
        "the 4 kB base latency (260 µs) per operation and lets one request use the full bandwidth. Fix: a "
        "per-request transfer rate of the device (≈ 660 MB/s here) in the hardware disk schema and "
        "RequestPlan.disk_device_s"),
    "felter-fio-seqread-qd1-kvm": (
        "as felter-fio-seqread-qd1-native, plus the missing kvm disk.latency_us (+419 µs per 1 MB I/O measured; "
        "see felter-fio-qd16-clat-kvm)"),
    # --- Firecracker ----------------------------------------------------------------------------------
    "fc-disk-qd1-added-p99": (
        "firecracker.yaml disk.iops_limit 13,000 is enforced (requests.py RequestPlan.cpu_work) as a floor of "
        "1 / 13,000 s = 76.9 µs of VMM-thread work on EVERY request, so at QD1 it lies in series with "
        "disk.latency_us 37 µs (itself fitted as 49 − 2 − 10 assuming 10 µs of VMM work): +116 µs instead of "
        "+49. Fix: enforce iops_limit as a rate ceiling on the path (a cap on the consumer's operations, not "
        "per-request work); then QD1 adds 2 + 10 + 37 = 49 µs and the saturated rate stays 13,000"),
    # --- gVisor -------------------------------------------------------------------------------------
    "gvisor-syscall-docker": (
        "by design: gvisor.yaml ops.syscall source sets the runc baseline of syscall.csv (1939 ns, 5× a native "
        "null call) aside as inflated by running inside a GCE VM; docker.yaml follows HOTCLOUD19's +32% "
        "instead (that row passes). The two sources cannot both hold"),
    "hotcloud-syscall-gvisor": (
        "by design: gvisor.yaml ops.syscall follows syscall.csv (763 ns on the KVM platform, which passes), "
        "not HOTCLOUD19's second-hand 2.8× (which would be +0.67 µs per call instead of +0.21)"),
    "gvisor-tmpfs-seqread": (
        "the model has one storage bandwidth factor for reads and writes: gvisor.yaml "
        "storage_modes.volume.bandwidth_factor 0.5 is the mean of read 0.597 and write 0.399. Fix: separate "
        "read/write factors in the engine storage-mode schema"),
    "gvisor-tmpfs-seqwrite": "as gvisor-tmpfs-seqread (one bandwidth factor for reads and writes)",
    "gvisor-tmpfs-randread": (
        "by design: fio-tmpfs.csv ran on the ptrace platform, where every read/write pays the ~37.5 µs ptrace "
        "trap; gvisor.yaml models the KVM platform and subtracts that trap (storage_modes.volume.guest_cpu_us "
        "source). A gvisor-ptrace profile (its description gives the costs) would test these rows"),
    "gvisor-tmpfs-randwrite": "by design: as gvisor-tmpfs-randread (ptrace-platform measurement)",
    # --- Type 2 lmbench -------------------------------------------------------------------------------
    **{f"xen-lmbench-{op}-vmware-workstation": (
        "by design: vmware-workstation.yaml models Workstation with VT-x/EPT (kvm-class operation costs); "
        "WS 3.2's binary translation and shadow page tables (2003) are cited in its ops sources as pre-EPT "
        "upper bounds only")
       for op in ("syscall", "ctxsw", "pagefault", "fork")},
}
