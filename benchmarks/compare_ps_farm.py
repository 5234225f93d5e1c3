#!/usr/bin/env python3
"""Compare virtsim with its peers on the ps-farm reference scenario.

The scenario and its peers (SimGrid, naive SimPy, a specialised fluid loop and
an event-queue floor) live in the shared bench folder (``../shared/bench``
relative to the repository root; see its README). This script:

1. writes the job streams (``jobs.csv`` + ``jobs.json``) for each size with the
   shared ``ps_farm_jobs.py``, into ``--jobs-dir``;
2. runs every implementation one at a time, under ``/usr/bin/time -v`` and
   pinned to one core with ``taskset``; within each rep every implementation
   runs once, one after another, so that machine noise hits them all alike;
3. parses the ``RESULT {json}`` line each run prints and appends one JSON record
   per run to ``--out``;
4. checks virtsim's checksum against SimGrid's (or the fluid loop's where
   SimGrid was not run at that size) to 1e-6 relative;
5. prints a Markdown summary: median wall seconds and peak RSS per
   implementation and size, the ratios virtsim/fluid and virtsim/simgrid, and
   pass/fail against the performance targets.

Peers need an interpreter with numpy, simpy and SimGrid's bindings (Debian's
``python3-simgrid`` for the system Python), e.g. a venv made with
``/usr/bin/python3 -m venv --system-site-packages PEERS && PEERS/bin/pip install numpy simpy``.

Typical run, from the repository root:

    python benchmarks/compare_ps_farm.py --peer-python PEERS/bin/python \\
        --sizes tiny,small,medium,large --reps 3 \\
        --skip-simgrid-at large --simgrid-results simgrid_large.jsonl

virtsim's benchmark is run as ``VIRTSIM_PYTHON benchmarks/ps_farm.py JOBS_CSV --json``
(it reads ``jobs.json`` beside the CSV) with the engine as installed (compiled
where a C compiler was at hand; the records say which). ``--virtsim-plain``
adds a run of the same with ``VIRTSIM_PURE_PYTHON=1`` (the plain-Python engine),
reported as ``virtsim-python``; the targets are checked for ``virtsim``. ``--virtsim-script`` and
``--virtsim-args`` (with ``{csv}``, ``{json}`` and ``{size}`` placeholders) point
the harness at another script, e.g. to test it with the shared fluid loop:

    --virtsim-script ../shared/bench/ps_farm_fluid.py --virtsim-args '{size} --json'

Exit status: 0 if every run succeeded and virtsim's checksums match, 1 otherwise.
The performance targets are reported but do not affect the exit status.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = ["tiny", "small", "medium", "large"]
# peer name -> (script in the bench folder, extra arguments)
PEERS = {
    "fluid": ("ps_farm_fluid.py", []),
    "fluid-simpy": ("ps_farm_fluid.py", ["--engine", "simpy"]),
    "simpy": ("ps_farm_simpy.py", []),
    "simgrid": ("ps_farm_simgrid.py", []),
    "floor": ("ps_farm_floor.py", []),
}
CHECKSUM_RTOL = 1e-6
TARGET_LARGE_S = 30.0
TARGET_FLUID_RATIO = 3.0
TARGET_PEAK_MIB = 400.0


def csv_list(text):
    """'a,b,,c' -> ['a', 'b', 'c']; '' -> []."""
    return [x for x in text.split(",") if x]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=csv_list, default=SIZES, help="comma-separated sizes")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--peers", type=csv_list, default=list(PEERS),
                   help="comma-separated peers: " + ",".join(PEERS))
    p.add_argument("--skip-simgrid-at", type=csv_list, default=["large"],
                   help="sizes at which SimGrid is not run (default: large; '' runs it everywhere)")
    p.add_argument("--simgrid-results", type=Path, action="append", default=[],
                   help="JSONL of earlier SimGrid runs (bench.py or this script's format), "
                        "used at sizes where SimGrid is skipped; may be repeated")
    p.add_argument("--bench-dir", type=Path, default=REPO.parent / "shared" / "bench",
                   help="shared bench folder with the peers (default: ../shared/bench)")
    p.add_argument("--jobs-dir", type=Path, default=REPO / "results" / "ps_farm" / "jobs",
                   help="where SIZE/jobs.csv and SIZE/jobs.json are written")
    p.add_argument("--regen", action="store_true", help="rewrite job files that already exist")
    p.add_argument("--out", type=Path, default=REPO / "results" / "ps_farm" / "results.jsonl",
                   help="JSONL file the run records are appended to")
    p.add_argument("--peer-python", default="python3",
                   help="interpreter with numpy, simpy and SimGrid for the peers")
    p.add_argument("--virtsim-python", default=sys.executable)
    p.add_argument("--virtsim-script", type=Path, default=REPO / "benchmarks" / "ps_farm.py")
    p.add_argument("--virtsim-args", default="{csv} --json",
                   help="arguments of the virtsim script; {csv}, {json}, {size} are substituted")
    p.add_argument("--no-virtsim", action="store_true", help="run the peers only")
    p.add_argument("--virtsim-plain", action="store_true",
                   help="also run virtsim with its plain-Python engine (VIRTSIM_PURE_PYTHON=1)")
    p.add_argument("--pin", default="1", help="CPU to pin runs to with taskset, or 'none'")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per run")
    a = p.parse_args(argv)
    for s in a.sizes + a.skip_simgrid_at:
        if s not in SIZES:
            p.error(f"unknown size {s!r}")
    for peer in a.peers:
        if peer not in PEERS:
            p.error(f"unknown peer {peer!r}")
    return a


def generate_jobs(args, size):
    """Write jobs.csv/jobs.json for one size (unless present) and return the CSV path."""
    csv = (args.jobs_dir / size / "jobs.csv").resolve()
    if args.regen or not csv.exists() or not csv.with_suffix(".json").exists():
        cmd = [args.peer_python, "ps_farm_jobs.py", size, "-o", str(csv)]
        subprocess.run(cmd, cwd=args.bench_dir, check=True, stdout=subprocess.DEVNULL)
    return csv


def plan(args, size, csv):
    """The commands to run at one size, once per rep: a list of (impl, cmd, cwd, extra env)."""
    runs = []
    if not args.no_virtsim:
        subst = {"csv": str(csv), "json": str(csv.with_suffix(".json")), "size": size}
        vargs = [x.format(**subst) for x in shlex.split(args.virtsim_args)]
        cmd = [args.virtsim_python, str(args.virtsim_script.resolve())] + vargs
        runs.append(("virtsim", cmd, REPO, {}))
        if args.virtsim_plain:
            runs.append(("virtsim-python", cmd, REPO, {"VIRTSIM_PURE_PYTHON": "1"}))
    for peer in args.peers:
        if peer == "simgrid" and size in args.skip_simgrid_at:
            continue
        script, extra = PEERS[peer]
        runs.append((peer, [args.peer_python, script, size, "--json"] + extra, args.bench_dir, {}))
    return runs


def run_one(impl, size, cmd, cwd, args, env=None):
    """Run one command under /usr/bin/time -v, return its record (RESULT fields merged)."""
    wrapped = ["/usr/bin/time", "-v"]
    if args.pin != "none" and shutil.which("taskset"):
        wrapped += ["taskset", "-c", args.pin]
    wrapped += cmd
    t0 = time.perf_counter()
    try:
        p = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True, timeout=args.timeout,
                           env={**os.environ, **(env or {})})
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, stdout, stderr = "timeout", e.stdout or "", e.stderr or ""
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode() if isinstance(stderr, bytes) else stderr
    rec = {"impl": impl, "size": size, "rc": rc, "pin": args.pin,
           "process_s": round(time.perf_counter() - t0, 3)}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    rec["maxrss_mib"] = round(int(m.group(1)) / 1024, 1) if m else None
    result = None
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if result is None:
        rec["stderr_tail"] = stderr[-2000:]
    else:
        result["impl_reported"] = result.pop("impl", None)
        result.pop("size", None)
        rec.update(result)
    rec["ok"] = rc == 0 and result is not None
    return rec


def load_simgrid_results(paths, sizes):
    """Successful SimGrid records from earlier JSONL files, for the given sizes."""
    recs = []
    for path in paths:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            name = r.get("label") or r.get("impl") or ""
            if "simgrid" not in name or r.get("size") not in sizes or "checksum" not in r:
                continue
            if r.get("rc", 0) != 0:
                continue
            recs.append(dict(r, impl="simgrid", ok=True, source=str(path)))
    return recs


def fmt(x):
    """Three significant digits, without switching to exponent notation."""
    if x is None:
        return "–"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:#.3g}"


def summarise(records):
    """{(impl, size): {wall, peak, checksum, n}} over successful records."""
    groups = {}
    for r in records:
        if r.get("ok"):
            groups.setdefault((r["impl"], r["size"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        peaks = [r.get("maxrss_mib") or r.get("peak_rss_mib") or 0.0 for r in rs]
        out[key] = {"wall": statistics.median(r["wall_s"] for r in rs), "peak": max(peaks),
                    "checksum": rs[0]["checksum"], "n": len(rs)}
    return out


def report(args, records):
    """Print the Markdown summary; return True if the checksums and runs are all right."""
    stats = summarise(records)
    sizes = args.sizes
    impls = [i for i in ["virtsim", "virtsim-python"] + list(PEERS) if any((i, s) in stats for s in sizes)]
    print("\n## ps-farm: median wall seconds (peak RSS MiB), runs\n")
    print("| impl | " + " | ".join(sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for impl in impls:
        cells = []
        for s in sizes:
            st = stats.get((impl, s))
            cells.append("–" if st is None else
                         f"{fmt(st['wall'])} ({st['peak']:.0f}) ×{st['n']}")
        print(f"| {impl} | " + " | ".join(cells) + " |")

    ok = all(r.get("ok") for r in records)
    failed = [f"{r['impl']}@{r['size']} rc={r['rc']}" for r in records if not r.get("ok")]
    checks = []   # (description, passed or None if not measurable)
    if "virtsim" in impls:
        print("\n| size | virtsim/fluid | virtsim/simgrid | checksum vs | rel. diff |")
        print("|---|---|---|---|---|")
        for s in sizes:
            v = stats.get(("virtsim", s))
            if v is None:
                continue
            fl, sg = stats.get(("fluid", s)), stats.get(("simgrid", s))
            ref_name, ref = ("simgrid", sg) if sg else ("fluid", fl)
            rel = None if ref is None else abs(v["checksum"] - ref["checksum"]) / abs(ref["checksum"])
            if rel is not None and rel > CHECKSUM_RTOL:
                ok = False
            r_fl = v["wall"] / fl["wall"] if fl else None
            r_sg = v["wall"] / sg["wall"] if sg else None
            mark = "–" if rel is None else f"{rel:.1e} {'ok' if rel <= CHECKSUM_RTOL else 'FAIL'}"
            print(f"| {s} | {fmt(r_fl)} | {fmt(r_sg)} | {ref_name if ref else '–'} | {mark} |")
            checks.append((f"checksum {s} within {CHECKSUM_RTOL:g} of {ref_name}",
                           None if rel is None else rel <= CHECKSUM_RTOL))
            if s == "large":
                checks.append((f"large < {TARGET_LARGE_S:g} s", v["wall"] < TARGET_LARGE_S))
            checks.append((f"{s}: faster than SimGrid", None if r_sg is None else r_sg < 1.0))
            checks.append((f"{s}: ≤ {TARGET_FLUID_RATIO:g}× fluid loop",
                           None if r_fl is None else r_fl <= TARGET_FLUID_RATIO))
            checks.append((f"{s}: peak < {TARGET_PEAK_MIB:g} MiB", v["peak"] < TARGET_PEAK_MIB))
        engines = sorted({r.get("engine", "?") for r in records if r["impl"] == "virtsim" and r.get("ok")})
        print(f"\nvirtsim's engine in these runs: {', '.join(engines)}")
        print("\n### Targets\n")
        for desc, passed in checks:
            print(f"- {'n/a ' if passed is None else 'PASS' if passed else 'FAIL'} {desc}")
    if failed:
        print("\nFailed runs: " + ", ".join(failed))
    return ok


def main(argv=None):
    args = parse_args(argv)
    args.bench_dir = args.bench_dir.resolve()
    # Runs happen in other folders: make interpreters given as relative paths absolute.
    for name in ("peer_python", "virtsim_python"):
        exe = getattr(args, name)
        if "/" in exe:
            setattr(args, name, os.path.abspath(exe))  # not resolve(): keep venv symlinks
    args.out.parent.mkdir(parents=True, exist_ok=True)
    csvs = {s: generate_jobs(args, s) for s in args.sizes}
    simgrid_needed = [s for s in args.sizes if s in args.skip_simgrid_at]
    records = load_simgrid_results(args.simgrid_results, simgrid_needed)
    for size in args.sizes:
        runs = plan(args, size, csvs[size])
        for rep in range(args.reps):
            # Each rep runs every implementation once; the order rotates so that
            # no implementation always runs first.
            k = rep % len(runs) if runs else 0
            for impl, cmd, cwd, env in runs[k:] + runs[:k]:
                rec = run_one(impl, size, cmd, cwd, args, env)
                rec["rep"] = rep
                records.append(rec)
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                print(f"{size:7s} rep {rep} {impl:12s} wall={rec.get('wall_s')} "
                      f"rss={rec['maxrss_mib']} checksum={rec.get('checksum')} rc={rec['rc']}",
                      file=sys.stderr, flush=True)
    return 0 if report(args, records) else 1


if __name__ == "__main__":
    sys.exit(main())
