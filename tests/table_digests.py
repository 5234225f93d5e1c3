"""Fingerprints of every table that every shipped experiment file writes.

``virtsim run FILE -o DIR`` is run, full length, for each ``experiments/**/*.yaml``;
each table it writes is reduced to a SHA-256:

* a ``*.csv`` by its bytes, as written;
* a sweep point's ``points/<key>/*.parquet`` by the bytes of its CSV rendering
  (``DataFrame.to_csv``, which writes floats with ``repr``: every bit shows).
  Points are named ``s<scenario>r<replication>`` from ``sweep.json``, not by
  their key, which is a hash of the resolved configuration, not a result.

``tests/data/table-digests.json`` holds the fingerprints recorded on the commit
named in it; ``tests/test_tables_unchanged.py`` checks the checkout against it.
To record them (only when a change is *meant* to change results, saying so in
its commit)::

    python tests/table_digests.py record

``python tests/table_digests.py check`` runs the same comparison as the test and
lists every table that differs. A new experiment file is added with
``python tests/table_digests.py add`` (its digests only, the others kept; the
commit it was recorded on is kept in ``added``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parents[1]
EXPERIMENTS = ROOT / "experiments"
RECORD = ROOT / "tests" / "data" / "table-digests.json"


def experiment_files() -> list[Path]:
    return sorted(EXPERIMENTS.glob("**/*.yaml"))


def experiment_name(path: Path) -> str:
    return path.relative_to(EXPERIMENTS).as_posix()


def run_experiment(path: Path, folder: Path) -> None:
    """``virtsim run`` as a user types it, in its own process (a fresh interpreter, like theirs)."""
    command = [sys.executable, "-c", "from virtsim.cli import main; main()", "run", str(path), "-o", str(folder),
               "--no-progress"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        raise RuntimeError(f"virtsim run {experiment_name(path)} exited {done.returncode}:\n{done.stderr[-3000:]}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parquet_digest(path: Path) -> str:
    text = io.StringIO()
    pd.read_parquet(path).to_csv(text)
    return _sha256(text.getvalue().encode("utf-8"))


def folder_digests(folder: Path) -> dict[str, str]:
    """``{table: sha256}`` for a result folder of ``virtsim run -o``."""
    digests = {path.name: _sha256(path.read_bytes()) for path in sorted(folder.glob("*.csv"))}
    sweep = folder / "sweep.json"
    if sweep.exists():
        for point in json.loads(sweep.read_text(encoding="utf-8"))["points"]:
            name = f"s{point['scenario']}r{point['replication']}"
            for table in sorted((folder / "points" / point["key"]).glob("*.parquet")):
                digests[f"points/{name}/{table.name}"] = _parquet_digest(table)
    return digests


def all_digests(workers: int = 2, only: set[str] | None = None) -> dict[str, dict[str, str]]:
    """Run every experiment file (those named in ``only``, if given; ``workers`` at a time) and fingerprint its tables."""
    with tempfile.TemporaryDirectory(prefix="virtsim-tables-") as tmp:
        def one(path: Path) -> tuple[str, dict[str, str]]:
            folder = Path(tmp, experiment_name(path).replace("/", "__"))
            run_experiment(path, folder)
            return experiment_name(path), folder_digests(folder)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            files = [path for path in experiment_files() if only is None or experiment_name(path) in only]
            return dict(pool.map(one, files))


def differences(recorded: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    """Every experiment or table that is new, gone or different, one line each."""
    lines = []
    for name in sorted(set(recorded) | set(now)):
        if name not in now:
            lines.append(f"{name}: recorded, but no such experiment file now")
        elif name not in recorded:
            lines.append(f"{name}: a new experiment file, not recorded (record the digests)")
        else:
            before, after = recorded[name], now[name]
            for table in sorted(set(before) | set(after)):
                if before.get(table) != after.get(table):
                    state = "missing now" if table not in after else "new" if table not in before else "differs"
                    lines.append(f"{name}: {table} {state}")
    return lines


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "virtsim", "models", "experiments"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["record", "add", "check"])
    parser.add_argument("-j", "--jobs", type=int, default=2, help="experiment files run at once")
    args = parser.parse_args(argv)
    if args.action == "add":
        recorded = json.loads(RECORD.read_text(encoding="utf-8"))
        new = {experiment_name(path) for path in experiment_files()} - set(recorded["experiments"])
        now = all_digests(args.jobs, only=new)
        recorded["experiments"] |= now
        recorded.setdefault("added", {}).update(dict.fromkeys(now, git_commit()))
        RECORD.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        print(f"added {sum(map(len, now.values()))} tables of {len(now)} new experiment files: {sorted(now)}")
        return 0
    now = all_digests(args.jobs)
    if args.action == "record":
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(json.dumps({"commit": git_commit(), "experiments": now}, indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, now.values()))} tables of {len(now)} experiment files in {RECORD.relative_to(ROOT)}")
        return 0
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    lines = differences(recorded["experiments"], now)
    print("\n".join(lines) or f"all {sum(map(len, now.values()))} tables as on {recorded['commit']}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
