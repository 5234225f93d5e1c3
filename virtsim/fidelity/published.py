"""The published micro-benchmark rows that the default profiles were fitted on.

Every value is copied from the calibration files of the project's data folder
(``shared/calibration/README.md``, "calibration README", and its extension
``shared/calibration/type2-startup-migration.md``); ``source`` names the file,
its section, the publication and the row as written there. A row of the
extension is here where a profile value was fitted on a micro-benchmark of
confidence M or better; its L rows and application results are envelopes,
checked by the profile tests instead. Ratios follow the files' convention:
virtualized / native for throughput-type metrics (higher is better). Nothing
here knows the simulator: :mod:`virtsim.fidelity.benchmarks` says how each row
is simulated, :mod:`virtsim.fidelity.gaps` which rows the current model cannot
reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TOLERANCE = 0.10
"""Relative tolerance of a row unless its data give a larger spread."""


@dataclass(frozen=True)
class Row:
    """One published measurement."""

    id: str
    benchmark: str
    stack: str
    metric: str
    unit: str
    value: float
    source: str
    tolerance: float = DEFAULT_TOLERANCE
    """Relative tolerance on ``value`` (e.g. 0.10 = ±10%)."""
    bound: str | None = None
    """``"min"`` / ``"max"`` for a published bound ("> 95%", "≤ 125 ms"): the row passes on that side."""


RATIO = "throughput ratio vs native"

_T1 = "calibration README §2.1 FELTER Table I"
_FD = "calibration README §2.1 FELTER-DATA"
_NET = "calibration README §2.2 FELTER"
_IO = "calibration README §2.3 FELTER"
_IOLOG = "calibration README §2.3 FELTER-DATA"
_XEN = "calibration README §3"
_FC = "calibration README §5"
_GV = "calibration README §6"
_OVH = "calibration README §7 VMW-OVH"
_T2 = "calibration type2-startup-migration.md"
WS32 = "vmware-workstation@3.2"
"""The software of XEN's Type 2 rows (2003): binary translation, shadow page tables, an emulated NIC."""


def _rows() -> list[Row]:
    r = Row
    return [
        # --- §2.1 FELTER Table I: CPU and memory -------------------------------------------------
        r("felter-linpack-docker", "Linpack (MKL, N=45000)", "docker", RATIO, "ratio", 1.000,
          f"{_T1}: Linpack GFLOPS Docker 290.9 vs native 290.8, ratio D/N 1.000"),
        r("felter-linpack-kvm", "Linpack (MKL, N=45000)", "kvm", RATIO, "ratio", 0.977,
          f"{_T1}: Linpack GFLOPS KVM-tuned 284.2 vs native 290.8, ratio KVM-t/N 0.977"),
        r("felter-linpack-kvm-untuned", "Linpack (MKL, N=45000)", "kvm (untuned)", RATIO, "ratio", 0.830,
          f"{_T1}: Linpack GFLOPS KVM-untuned 241.3 vs native 290.8, ratio KVM-u/N 0.830"),
        r("felter-pxz-docker", "PXZ compression (32 thr)", "docker", RATIO, "ratio", 0.965,
          f"{_T1}: PXZ MB/s Docker 73.5 vs native 76.2, ratio D/N 0.965"),
        r("felter-pxz-kvm", "PXZ compression (32 thr)", "kvm", RATIO, "ratio", 0.816,
          f"{_T1}: PXZ MB/s KVM-tuned 62.2 vs native 76.2, ratio KVM-t/N 0.816"),
        r("felter-pxz-kvm-untuned", "PXZ compression (32 thr)", "kvm (untuned)", RATIO, "ratio", 0.777,
          f"{_T1}: PXZ MB/s KVM-untuned 59.2 vs native 76.2, ratio KVM-u/N 0.777"),
        r("felter-ra2s-docker", "RandomAccess, 2-socket", "docker", RATIO, "ratio", 0.984,
          f"{_T1}: RandomAccess GUPS Docker 0.0124 vs native 0.0126, ratio D/N 0.984"),
        r("felter-ra2s-kvm", "RandomAccess, 2-socket", "kvm", RATIO, "ratio", 0.992,
          f"{_T1}: RandomAccess GUPS KVM 0.0125 vs native 0.0126, ratio KVM-u/N 0.992"),
        r("felter-ra1s-docker", "RandomAccess, 1-socket", "docker", RATIO, "ratio", 0.999,
          f"{_FD} gups.xlsx single socket: Docker 0.04574 vs native 0.04579 GUPS "
          "(calibration set (a): 0.999)"),
        r("felter-ra1s-kvm", "RandomAccess, 1-socket", "kvm", RATIO, "ratio", 0.860,
          f"{_FD} gups.xlsx single socket: KVM 0.03936 vs native 0.04579 GUPS, KVM/native 0.860"),
        r("felter-stream-add-docker", "STREAM Add, 2-socket", "docker", RATIO, "ratio", 0.996,
          f"{_T1}: STREAM Add GB/s Docker 45.6 vs native 45.8, ratio D/N 0.996"),
        r("felter-stream-add-kvm", "STREAM Add, 2-socket", "kvm", RATIO, "ratio", 0.983,
          f"{_T1}: STREAM Add GB/s KVM 45.0 vs native 45.8, ratio KVM-u/N 0.983"),
        r("felter-stream-copy-docker", "STREAM Copy, 2-socket", "docker", RATIO, "ratio", 0.998,
          f"{_T1}: STREAM Copy GB/s Docker 41.2 vs native 41.3, ratio D/N 0.998"),
        r("felter-stream-copy-kvm", "STREAM Copy, 2-socket", "kvm", RATIO, "ratio", 0.971,
          f"{_T1}: STREAM Copy GB/s KVM 40.1 vs native 41.3, ratio KVM-u/N 0.971"),
        r("felter-stream-scale-docker", "STREAM Scale, 2-socket", "docker", RATIO, "ratio", 1.000,
          f"{_T1}: STREAM Scale GB/s Docker 41.2 vs native 41.2, ratio D/N 1.000"),
        r("felter-stream-scale-kvm", "STREAM Scale, 2-socket", "kvm", RATIO, "ratio", 0.971,
          f"{_T1}: STREAM Scale GB/s KVM 40.0 vs native 41.2, ratio KVM-u/N 0.971"),
        r("felter-stream-triad-docker", "STREAM Triad, 2-socket", "docker", RATIO, "ratio", 1.000,
          f"{_T1}: STREAM Triad GB/s Docker 45.6 vs native 45.6, ratio D/N 1.000"),
        r("felter-stream-triad-kvm", "STREAM Triad, 2-socket", "kvm", RATIO, "ratio", 0.987,
          f"{_T1}: STREAM Triad GB/s KVM 45.0 vs native 45.6, ratio KVM-u/N 0.987"),
        r("felter-stream1s-triad-kvm", "STREAM Triad, 1-socket", "kvm", RATIO, "ratio", 0.989,
          f"{_FD} stream-triad.xlsx single socket: Triad KVM 24.87 vs native 25.15 GB/s "
          "(KVM/native ≈ 0.989)"),
        # --- §2.2 FELTER network ---------------------------------------------------------------------
        r("felter-nuttcp-tx-native", "nuttcp bulk TCP, SUT transmits", "native", "bandwidth", "Mb/s", 9348.13,
          f"{_NET} nuttcp.xlsx client→server (SUT transmits): Native 9348.13 Mb/s"),
        r("felter-nuttcp-tx-docker", "nuttcp bulk TCP, SUT transmits", "docker", "bandwidth", "Mb/s", 9329.85,
          f"{_NET} nuttcp.xlsx client→server (SUT transmits): Docker NAT 9329.85 Mb/s"),
        r("felter-nuttcp-tx-kvm", "nuttcp bulk TCP, SUT transmits", "kvm", "bandwidth", "Mb/s", 9294.24,
          f"{_NET} nuttcp.xlsx client→server (SUT transmits): KVM (virtio+vhost) 9294.24 Mb/s"),
        r("felter-nuttcp-rx-native", "nuttcp bulk TCP, SUT receives", "native", "bandwidth", "Mb/s", 9340.23,
          f"{_NET} nuttcp.xlsx server→client (SUT receives): Native 9340.23 Mb/s"),
        r("felter-nuttcp-rx-docker", "nuttcp bulk TCP, SUT receives", "docker", "bandwidth", "Mb/s", 9319.93,
          f"{_NET} nuttcp.xlsx server→client (SUT receives): Docker NAT 9319.93 Mb/s"),
        r("felter-nuttcp-rx-kvm", "nuttcp bulk TCP, SUT receives", "kvm", "bandwidth", "Mb/s", 9264.94,
          f"{_NET} nuttcp.xlsx server→client (SUT receives): KVM (virtio+vhost) 9264.94 Mb/s"),
        r("felter-tcprr-rtt-native", "netperf TCP_RR (100 B / 200 B)", "native", "round trip", "µs", 37.58,
          f"{_NET} netperf.xlsx TCP_RR: Native RTT 37.58 µs"),
        r("felter-tcprr-rtt-kvm", "netperf TCP_RR (100 B / 200 B)", "kvm", "round trip", "µs", 67.94,
          f"{_NET} netperf.xlsx TCP_RR: KVM RTT 67.94 µs"),
        r("felter-tcprr-rtt-docker", "netperf TCP_RR (100 B / 200 B)", "docker", "round trip", "µs", 75.0,
          f"{_NET} paper text \"NAT, as used in Docker, doubles latency\"; Docker NAT RTT "
          "\"≈2× native (≈75 µs, derived from the text; M)\""),
        r("felter-tcprr-tps-native", "netperf TCP_RR (100 B / 200 B)", "native", "transactions", "1/s", 26608.44,
          f"{_NET} netperf.xlsx TCP_RR: Native 26,608.44 trans/s"),
        r("felter-tcprr-tps-kvm", "netperf TCP_RR (100 B / 200 B)", "kvm", "transactions", "1/s", 14718.59,
          f"{_NET} netperf.xlsx TCP_RR: KVM 14,718.59 trans/s"),
        r("felter-tcprr-added-kvm", "netperf TCP_RR (100 B / 200 B)", "kvm", "added round trip", "µs", 30.4,
          f"{_NET} netperf.xlsx TCP_RR: KVM added latency +30.4 µs (paper: \"KVM adds 30 µs\")"),
        r("felter-tcprr-added-docker", "netperf TCP_RR (100 B / 200 B)", "docker", "added round trip", "µs",
          37.58, f"{_NET} paper text: NAT \"doubles latency\", i.e. + the native RTT 37.58 µs (derived)"),
        r("felter-udprr-rtt-native", "netperf UDP_RR (100 B / 200 B)", "native", "round trip", "µs", 36.02,
          f"{_NET} netperf.xlsx UDP_RR: Native RTT 36.02 µs"),
        r("felter-udprr-rtt-kvm", "netperf UDP_RR (100 B / 200 B)", "kvm", "round trip", "µs", 63.95,
          f"{_NET} netperf.xlsx UDP_RR: KVM RTT 63.95 µs"),
        # --- §2.3 FELTER block I/O -------------------------------------------------------------------
        *[r(f"felter-fio-seqread-{s}", "fio sequential read 1 MB", s, "bandwidth", "MB/s", v,
            f"{_IO} fio results.xlsx: Sequential read, 1 MB, 60 s (MB/s): {label} {v} [± {sd}]")
          for s, label, v, sd in (("native", "Native", 806.9, "0.37"), ("docker", "Docker (volume)", 806.7, "0.89"),
                                  ("kvm", "KVM (virtio)", 801.9, "4.02"))],
        *[r(f"felter-fio-seqwrite-{s}", "fio sequential write 1 MB", s, "bandwidth", "MB/s", v,
            f"{_IO} fio results.xlsx: Sequential write, 1 MB (MB/s): {label} {v} [± {sd}]")
          for s, label, v, sd in (("native", "Native", 751.0, "14.6"), ("docker", "Docker (volume)", 752.3, "12.5"),
                                  ("kvm", "KVM (virtio)", 740.2, "60.4"))],
        *[r(f"felter-fio-randread-{s}", "fio random read 4 kB, QD128", s, "operations", "IOPS", v,
            f"{_IO} fio results.xlsx: Random read 4 kB, total QD 128 (IOPS): {label} {v:,}")
          for s, label, v in (("native", "Native", 84044), ("docker", "Docker (volume)", 84092),
                              ("kvm", "KVM (virtio)", 46173))],
        *[r(f"felter-fio-randwrite-{s}", "fio random write 4 kB, QD128", s, "operations", "IOPS", v,
            f"{_IO} fio results.xlsx: Random write 4 kB, QD 128 (IOPS): {label} {v:,}")
          for s, label, v in (("native", "Native", 112034), ("docker", "Docker (volume)", 112048),
                              ("kvm", "KVM (virtio)", 59321))],
        *[r(f"felter-fio-qd16-iops-{s}", "fio random read 4 kB, 1 job x QD16", s, "operations", "IOPS", v,
            f"{_IOLOG} {{linux,docker,vm}}.log: random-read, 4 kB, 1 job × iodepth 16, IOPS: {label} {v:,}")
          for s, label, v in (("native", "Native", 58729), ("docker", "Docker", 58407), ("kvm", "KVM", 24793))],
        *[r(f"felter-fio-qd16-clat-{s}", "fio random read 4 kB, 1 job x QD16", s, "mean latency", "µs", v,
            f"{_IOLOG} {{linux,docker,vm}}.log: random-read, 4 kB, 1 job × iodepth 16, clat avg (µs): {label} {v}")
          for s, label, v in (("native", "Native", 260.5), ("docker", "Docker", 261.1), ("kvm", "KVM", 633.0))],
        *[r(f"felter-fio-seqread-qd1-{s}", "fio sequential read 1 MB, QD1", s, "bandwidth", "MB/s", v,
            f"{_IOLOG} {{linux,vm}}.log: seq read 1 MB, QD1, MB/s ; clat avg (µs): {label} {v} ; {clat}")
          for s, label, v, clat in (("native", "Native", 500, "1849.7"), ("kvm", "KVM", 415, "2269.1"))],
        # --- §3 XEN (SOSP 2003): SPEC INT2000, lmbench, ttcp; one 2.4 GHz Xeon ------------------------
        r("xen-specint-xen", "SPEC INT2000", "xen", RATIO, "ratio", 1.000,
          f"{_XEN}.1 XEN Fig. 3: SPEC INT2000 XenoLinux 567 vs native 567, X rel. 1.000"),
        r("xen-specint-vmware-workstation", "SPEC INT2000", WS32, RATIO, "ratio", 0.977,
          f"{_XEN}.1 XEN Fig. 3: SPEC INT2000 VMware WS 3.2 554 vs native 567, V rel. 0.977"),
        *[r(f"xen-lmbench-{op}-{s.split('@')[0]}", f"lmbench {name}", s, "time per operation", "µs", v,
            f"{_XEN}.2 XEN {table}, {col}: {label} {v} µs")
          for op, name, table, col, values in (
              ("syscall", "null call", "Table 3", "null call", (0.45, 0.46, 0.73)),
              ("ctxsw", "context switch 2p/0K", "Table 4", "2p/0K", (0.77, 1.97, 18.1)),
              ("pagefault", "page fault", "Table 5", "page fault", (1.42, 2.73, 12.4)),
              ("fork", "fork proc", "Table 3", "fork proc", (110, 198, 874)))
          for s, label, v in zip(("native", "xen", WS32), ("L-UP", "Xen", "VMware WS"), values)],
        *[r(f"xen-ttcp{mtu}-{way}-native", f"ttcp bulk TCP, GbE, MTU {mtu}, {way.upper()}", "native", "bandwidth",
            "Mb/s", v, f"{_XEN}.2 XEN Table 6: TCP MTU {mtu} {way.upper()} Linux {v:g} Mb/s")
          for mtu, way, v in ((1500, "tx", 897), (1500, "rx", 897), (500, "tx", 602), (500, "rx", 544))],
        r("xen-ttcp1500-tx-xen", "ttcp bulk TCP, GbE, MTU 1500, TX", "xen", RATIO, "ratio", 1.00,
          f"{_XEN}.2 XEN Table 6: TCP MTU 1500 TX Xen 897 (−0%) vs Linux 897 Mb/s; (a): Xen PV 1.00"),
        r("xen-ttcp1500-rx-xen", "ttcp bulk TCP, GbE, MTU 1500, RX", "xen", RATIO, "ratio", 1.00,
          f"{_XEN}.2 XEN Table 6: TCP MTU 1500 RX Xen 897 (−0%) vs Linux 897 Mb/s; (a): Xen PV 1.00"),
        r("xen-ttcp1500-tx-vmware-workstation", "ttcp bulk TCP, GbE, MTU 1500, TX", WS32, RATIO,
          "ratio", 0.32, f"{_XEN}.2 XEN Table 6: TCP MTU 1500 TX VMware WS (emulated pcnet32) 291 (−68%) vs "
          "Linux 897 Mb/s; (a): 0.32"),
        r("xen-ttcp1500-rx-vmware-workstation", "ttcp bulk TCP, GbE, MTU 1500, RX", WS32, RATIO,
          "ratio", 0.69, f"{_XEN}.2 XEN Table 6: TCP MTU 1500 RX VMware WS (emulated pcnet32) 615 (−31%) vs "
          "Linux 897 Mb/s; (a): 0.69"),
        r("xen-ttcp500-tx-vmware-workstation", "ttcp bulk TCP, GbE, MTU 500, TX", WS32, RATIO, "ratio", 0.17,
          f"{_XEN}.2 XEN Table 6: TCP MTU 500 TX VMware WS (emulated pcnet32) 101 (−83%) vs Linux 602 Mb/s; "
          "(a): 0.17"),
        r("xen-ttcp500-rx-vmware-workstation", "ttcp bulk TCP, GbE, MTU 500, RX", WS32, RATIO, "ratio", 0.25,
          f"{_XEN}.2 XEN Table 6: TCP MTU 500 RX VMware WS (emulated pcnet32) 137 (−75%) vs Linux 544 Mb/s; "
          "(a): 0.25"),
        r("xen-ttcp500-tx-xen", "ttcp bulk TCP, GbE, MTU 500, TX", "xen", RATIO, "ratio", 0.86,
          f"{_XEN}.2 XEN Table 6: TCP MTU 500 TX Xen 516 (−14%) vs Linux 602 Mb/s; (a): 0.86"),
        r("xen-ttcp500-rx-xen", "ttcp bulk TCP, GbE, MTU 500, RX", "xen", RATIO, "ratio", 0.86,
          f"{_XEN}.2 XEN Table 6: TCP MTU 500 RX Xen 467 (−14%) vs Linux 544 Mb/s; (a): 0.86"),
        # --- §5 Firecracker -------------------------------------------------------------------------
        r("fc-cpu", "compute-only guest", "firecracker", RATIO, "ratio", 0.95,
          f"{_FC} FC-SPEC [P-doc]: \"Compute-only guest CPU performance > 95% of bare metal\"", bound="min"),
        r("fc-net-added-rtt", "request-response latency", "firecracker", "added round trip", "µs", 60.0,
          f"{_FC} FC-SPEC [P-doc]: \"+0.06 ms network latency\""),
        r("fc-net-bandwidth", "bulk TCP, one VMM core", "firecracker", "bandwidth", "Gb/s", 25.0,
          f"{_FC} FC-SPEC [P-doc]: \"network up to 25 Gb/s at 100%\" of one host core"),
        r("fc-disk-bandwidth", "sequential read, one VMM core", "firecracker", "bandwidth", "GiB/s", 1.0,
          f"{_FC} FC-SPEC [P-doc]: \"storage up to 1 GiB/s at ≤70% of the core\""),
        r("fc-disk-iops", "random read 4 kB, saturated", "firecracker", "operations", "IOPS", 13000,
          f"{_FC} FC-NSDI [S]: \"≈ 13,000 IOPS in the Firecracker guest (v0.20.0, serial I/O, no flush)\""),
        r("fc-disk-qd1-added-p99", "random read 4 kB, QD1", "firecracker", "added p99 latency", "µs", 49.0,
          f"{_FC} FC-NSDI [S]: \"QD1 p99 4 kB read +49 µs vs native\""),
        # --- §6 gVisor (runsc, KVM platform by default) vs runc --------------------------------------
        r("gvisor-syscall-gvisor", "raw syscall time", "gvisor", "time per operation", "ns", 763,
          f"{_GV} GVISOR syscall.csv: runsc 763 ns (KVM platform)"),
        r("gvisor-syscall-docker", "raw syscall time", "docker", "time per operation", "ns", 1939,
          f"{_GV} GVISOR syscall.csv: runc 1939 ns"),
        r("hotcloud-syscall-docker", "syscall cost vs native", "docker", "time ratio vs native", "ratio", 1.32,
          f"{_GV} HOTCLOUD19 [S]: \"runc syscalls 32% slower than native\""),
        r("hotcloud-syscall-gvisor", "syscall cost vs native", "gvisor", "time ratio vs native", "ratio", 2.8,
          f"{_GV} HOTCLOUD19 [S]: \"fastest gVisor 2.8× slower\""),
        r("gvisor-sysbench-cpu", "sysbench cpu", "gvisor", "throughput ratio vs runc", "ratio", 0.996,
          f"{_GV} GVISOR sysbench-cpu.csv: runc 103.62 vs runsc 103.21 events/s, runsc/runc 0.996"),
        r("gvisor-sysbench-memory", "sysbench memory", "gvisor", "throughput ratio vs runc", "ratio", 1.001,
          f"{_GV} GVISOR sysbench-memory.csv: runc 13,098.73 vs runsc 13,107.44 ops/s, runsc/runc 1.001"),
        r("gvisor-iperf-download", "iperf download", "gvisor", "throughput ratio vs runc", "ratio", 0.858,
          f"{_GV} GVISOR iperf.csv: download runc 746.4 M vs runsc 640.3 M, runsc/runc 0.858"),
        r("gvisor-iperf-upload", "iperf upload", "gvisor", "throughput ratio vs runc", "ratio", 0.679,
          f"{_GV} GVISOR iperf.csv: upload runc 709.8 M vs runsc 482.3 M, runsc/runc 0.679"),
        r("gvisor-tmpfs-seqread", "fio on tmpfs, sequential read", "gvisor", "throughput ratio vs runc", "ratio",
          0.597, f"{_GV} GVISOR fio-tmpfs.csv: seq read runc 4.24 G vs runsc 2.53 G, runsc/runc 0.597"),
        r("gvisor-tmpfs-seqwrite", "fio on tmpfs, sequential write", "gvisor", "throughput ratio vs runc", "ratio",
          0.399, f"{_GV} GVISOR fio-tmpfs.csv: seq write runc 3.03 G vs runsc 1.21 G, runsc/runc 0.399"),
        r("gvisor-tmpfs-randread", "fio on tmpfs, random read", "gvisor", "throughput ratio vs runc", "ratio",
          0.056, f"{_GV} GVISOR fio-tmpfs.csv: rand read runc 1.22 G vs runsc 68.9 M B/s, runsc/runc 0.056"),
        r("gvisor-tmpfs-randwrite", "fio on tmpfs, random write", "gvisor", "throughput ratio vs runc", "ratio",
          0.064, f"{_GV} GVISOR fio-tmpfs.csv: rand write runc 1.05 G vs runsc 67.3 M B/s, runsc/runc 0.064"),
        # --- start-up (the start-up chain of VMs and containers) ----------------------------------------
        r("felter-kvm-boot", "VM boot to cloud-init modules:final", "kvm", "guest boot time", "s", 9.79,
          "calibration README §2.6 FELTER-DATA: cloud-init modules:final at 9.31–10.27 s guest uptime "
          "(6 boots; midpoint 9.79 s; guest uptime excludes QEMU start and BIOS)"),
        r("fc-boot", "microVM boot to /sbin/init", "firecracker", "boot from InstanceStart", "ms", 125,
          f"{_FC} FC-SPEC [P-doc]: Boot ≤ 125 ms from InstanceStart to guest /sbin/init", bound="max"),
        r("gvisor-start-docker", "container start, alpine true", "docker", "start-up time", "ms", 1193.1,
          f"{_GV} GVISOR startup.csv: container start via Docker, runc, alpine `true` 1193.1 ms"),
        r("gvisor-start-gvisor", "container start, alpine true", "gvisor", "start-up time", "ms", 1144.2,
          f"{_GV} GVISOR startup.csv: container start via Docker, runsc, alpine `true` 1144.2 ms"),
        r("dsp-compose-start-podman", "compose stack start (pyperf, 12 runs)", "podman",
          "start-up time ratio vs docker", "ratio", 1.039,
          f"{_T2} §4.5 jnussbaum/dsp-tools-podman [P-data, M]: GitHub CI, Ubuntu 24.04, Docker 21.1–22.2 s "
          "(midpoint 21.65) vs Podman 22.5 s ± 0.5–0.6; Podman / Docker = 1.039 (derived)"),
        r("cri-create-containerd", "CRI RunPodSandbox + CreateContainer (crictl, 100 runs)", "containerd",
          "pod create time", "ms", 162.7,
          f"{_T2} §4.6 santiagopedro1/container-runtime-benchmarks [P-data, M; derived]: containerd pod-sandbox "
          "create mean 127.2 ms + container create mean 35.5 ms = 162.7 ms"),
        # --- type2-startup-migration.md §3: Hyper-V -------------------------------------------------------
        r("friedman-hyperv-4vcpu", "multithreaded .NET CPU/memory benchmark, 4 CPUs", "hyper-v", RATIO, "ratio",
          0.857, f"{_T2} §3.2 Friedman [P-blog, M]: best-case elapsed 90 min native (4 CPUs) vs 105 min in one "
          "4-vCPU guest; 90 / 105 = 0.857 of native speed (derived)"),
        # --- memory footprints -------------------------------------------------------------------------
        *[r(f"vmw-ovh-esxi-{mb}-{v}", f"overhead memory, {mb} MB guest, {v} vCPU", "esxi", "memory per VM", "MiB",
            value, f"{_OVH} [P-doc, H]: ESXi 6.5 sample overhead memory, {mb} MB VM, {v} vCPU(s): {value} MB")
          for mb, v, value in ((256, 1, 20.29), (1024, 2, 29.91), (4096, 4, 60.67), (16384, 8, 168.60))],
        r("fc-vmm-memory", "VMM memory overhead, 1 vCPU / 128 MiB", "firecracker", "memory per VM", "MiB", 5,
          f"{_FC} FC-SPEC [P-doc]: VMM memory overhead ≤ 5 MiB"),
        r("gvisor-memory-docker", "memory per container, sleep", "docker", "memory per container", "MB", 4.09,
          f"{_GV} GVISOR density.csv: runc 4.09 MB"),
        r("gvisor-memory-gvisor", "memory per container, sleep", "gvisor", "memory per container", "MB", 23.70,
          f"{_GV} GVISOR density.csv: runsc 23.70 MB"),
    ]


ROWS: tuple[Row, ...] = tuple(_rows())
BY_ID: dict[str, Row] = {row.id: row for row in ROWS}
assert len(BY_ID) == len(ROWS), "duplicate row ids"
