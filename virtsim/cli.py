"""The ``virtsim`` command line."""

from __future__ import annotations

import math
import sys

import click
import numpy as np
import pandas as pd

from .analysis.jobs import POOLED_ONLY_ALIKE
from .config import ConfigError
from .console import difference_lines, estimate_text, time_unit, workload_lines
from .experiment.executors import EXECUTORS

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1

SUMMARY_COLUMNS = (
    ("jobs_completed", "jobs completed", "{:.0f}"),
    ("throughput_per_s", "throughput", "{:.4g} /s"),
    ("response_time_mean_s", "response time, mean", "{:.4g} s"),
    ("response_time_p50_s", "response time, p50", "{:.4g} s"),
    ("response_time_p95_s", "response time, p95", "{:.4g} s"),
    ("response_time_p99_s", "response time, p99", "{:.4g} s"),
    ("cpu_utilization", "host CPU utilization", "{:.1%}"),
)


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _print_summary(results) -> None:
    row = results.summary.iloc[0]
    click.echo(f"{row['name']}  (seed {row['seed']}, measured {row['measured_s']:g} s of simulated time)")
    pooled = len(results.workloads) <= 1  # unlike workloads are never pooled: one line each below
    for key, label, fmt in SUMMARY_COLUMNS if not _placement_only(results) else ():
        if pooled or key not in POOLED_ONLY_ALIKE:
            click.echo(f"  {label:<24} {fmt.format(row[key])}")
    _print_placement_outcome(row)
    failures = not results.failures.empty
    if failures:
        events = results.failures["event"]
        downs = int(events.isin(["failure", "oom-kill"]).sum())
        click.echo(f"  {'failures':<24} {downs}, "
                   f"{int(row['jobs_failed'])} jobs failed")
    if not np.isnan(row["energy_j"]):
        click.echo(f"  {'energy':<24} {row['energy_j'] / 3.6e6:.4g} kWh over {int(row['hosts_powered_on'])} "
                   f"powered-on host(s)")
    if not np.isnan(row["cost"]):
        click.echo(f"  {'cost':<24} {row['cost']:.4g} {row.get('currency', '')}".rstrip())
    if results.unplaced is not None:
        _print_unplaced(results.unplaced)
    _print_stability(results.summary)
    wl = results.workloads
    if len(wl) > 1 or failures:
        click.echo("  per workload:")
        for line in workload_lines(wl, availability=failures):
            click.echo(f"    {line}")
    _print_differences(results.differences)


def _print_differences(differences) -> None:
    """The paired differences of a comparison, with their intervals when there are replications."""
    if differences is None or differences.empty:
        return
    click.echo("  paired differences (the same arrivals and demands on every stack):")
    for line in difference_lines(differences):
        click.echo(f"    {line}")
    more = " (differences.csv has every metric)" if differences["metric"].nunique() > 1 else ""
    if (differences["replications"] < 2).all():
        click.echo(f"    one replication, so no interval: give 'replications: N' for one{more}")
    elif more:
        click.echo(f"   {more}")


def _placement_only(results) -> bool:
    """A placement study with no jobs (a run or a sweep): its answer is where things went, not response times."""
    summary = results.summary
    return (results.placement is not None and "jobs_arrived" in summary.columns
            and int(summary["jobs_arrived"].sum()) == 0)


def _table_lines(header, rows, *, right=(), indent: str = "") -> list[str]:
    """``header`` and ``rows`` (sequences of cells) as aligned text lines; columns in ``right`` right-aligned."""
    widths = [max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header))]
    return [indent + "  ".join(str(cell).rjust(w) if i in right else str(cell).ljust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
            for line in [header, *rows]]


def _written_to(folder) -> str:
    """``results written to DIR/``: the folder with one trailing slash."""
    text = str(folder)
    return f"results written to {text}{'' if text.endswith('/') else '/'}"


def _print_placement_outcome(row) -> None:
    """Hosts used and CPU fragmentation of a run with a placement section."""
    if "hosts_used" not in row or row["hosts_used"] != row["hosts_used"]:
        return
    fragmentation = row["cpu_fragmentation"]
    click.echo(f"  {'hosts used':<24} {int(row['hosts_used'])}")
    click.echo(f"  {'CPU fragmentation':<24} {'–' if fragmentation != fragmentation else f'{fragmentation:.1%}'}"
               "  (free CPU on used hosts where the median item no longer fits)")


def _print_stability(summary) -> None:
    """Say loudly when a run's open workloads piled up jobs: its means then describe the run's length."""
    if "stable" not in summary.columns:
        return
    unstable = [row for row in summary.to_dict("records") if not row["stable"]]
    for row in unstable[:LISTED]:
        where = f"scenario {row['scenario']} replication {row['replication']}: " if "scenario" in row else ""
        click.echo(f"  UNSTABLE {where}{row['stability_note']}; the means depend on the run's length, "
                   "not the model (jobs_in_system_at_end, workloads.csv stable)")
    if len(unstable) > LISTED:
        click.echo(f"  … and {len(unstable) - LISTED} more unstable runs (summary.csv: stable, stability_note)")


LISTED = 12
"""Placements and left-out items printed one by one; beyond that, a count (the CSV has them all)."""


def _print_placement(placement) -> None:
    placed = placement.placed
    if len(placed) <= LISTED:
        where = ", ".join(f"{item} → {host}" for item, host in placed.items()) or "nothing placed"
    else:
        where = f"{len(placed)} items on {len(set(placed.values()))} hosts"
    click.echo(f"  placement ({placement.policy}): {where}")
    if placement.unplaced:
        _print_unplaced(pd.DataFrame([u.model_dump() for u in placement.unplaced]))


def _print_unplaced(table) -> None:
    if table.empty:
        return
    click.echo(f"  not placed ({len(table)}):")
    for _, item in table.head(LISTED).iterrows():
        reason = item["reason"] if len(item["reason"]) <= 300 else item["reason"][:300] + " …"
        click.echo(f"    {item['kind']} {item['name']}: {reason}")
    if len(table) > LISTED:
        click.echo(f"    … and {len(table) - LISTED} more (unplaced.csv lists them all)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="virtsim")
def main() -> None:
    """Simulate virtualization stacks: hypervisors, containers and the hardware they share."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False),
              help="Folder for the results: manifest.json and CSV tables; for a sweep also one "
                   "folder per finished point (rerun into it to resume). What an earlier run wrote "
                   "there is replaced.")
@click.option("--force", is_flag=True, help="Write into a folder that also holds files virtsim did not write "
              "(they are left as they are).")
@click.option("--seed", type=click.IntRange(min=0), help="Override the file's (root) seed.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set a field before the file is checked, by its path as a sweep names it, the value read "
                   "as YAML: --set hosts[0].count=4 --set 'workloads[0].arrivals.rate=2 /s'. Repeatable.")
@click.option("--duration", metavar="TIME", help="Shorthand for --set duration=TIME, e.g. --duration 100s.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Run a sweep's points on N local processes "
              "(with --executor dask: N workers).")
@click.option("--executor", type=click.Choice(EXECUTORS),
              help="Where a sweep's points run (default: serial, or process with --jobs > 1).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run a sweep on this existing Dask cluster.")
@click.option("--no-progress", is_flag=True, help="No progress bar (there is none when stderr is not a terminal).")
def run(file: str, output: str | None, force: bool, seed: int | None, sets: tuple[str, ...], duration: str | None,
        jobs: int | None, executor: str | None, scheduler: str | None, no_progress: bool) -> None:
    """Run the experiment FILE (every scenario and replication of a sweep) and print its summary."""
    from .experiment import run_spec, write_results
    from .experiment.folder import ForeignFiles, check_folder
    from .experiment.progress import show_progress

    plan = _load_plan(file, seed, _overrides(sets, duration))
    progress = show_progress(not no_progress)
    if not plan.single_run:
        _run_sweep(plan, output, jobs, _executor(executor, jobs, scheduler), scheduler, progress, force)
        return
    if output:
        try:
            check_folder(output, force=force)  # before the run, not after it
        except ForeignFiles as err:
            _fail(str(err), EXIT_BAD_INPUT)
    try:
        results = run_spec(plan.scenarios[0].spec, seed=seed, progress=progress)
    except ConfigError as err:
        _fail(str(err), EXIT_BAD_INPUT)
    except (ValueError, KeyError, OSError) as err:
        _fail(f"{file}: the run failed: {err}", EXIT_FAILED)
    _print_summary(results)
    _print_theory(plan.theory, results.summary)
    if output:
        try:
            folder = write_results(results, output, force=force)
        except OSError as err:
            _fail(f"{output}: cannot write results: {err}", EXIT_FAILED)
        click.echo(_written_to(folder))


def _overrides(sets: tuple[str, ...], duration: str | None) -> list[tuple[str, object]]:
    """``--set KEY=VALUE`` (and ``--duration``) as (path, value) pairs, each value parsed as a YAML scalar."""
    import yaml

    pairs = []
    for text in sets:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            _fail(f"--set {text}: expected KEY=VALUE, such as hosts[0].count=4", EXIT_BAD_INPUT)
        try:
            parsed = yaml.safe_load(value)  # an empty value is None
        except yaml.YAMLError as err:
            _fail(f"--set {text}: the value is not YAML: {str(err).splitlines()[0]}", EXIT_BAD_INPUT)
        pairs.append((key.strip(), parsed))
    if duration is not None:
        pairs.append(("duration", duration))
    return pairs


def _load_plan(file: str, seed: int | None, overrides=(), on_scenario=None):
    from .config import load_sweep

    try:
        return load_sweep(file, seed=seed, overrides=overrides, on_scenario=on_scenario)
    except ConfigError as err:
        _fail(str(err), EXIT_BAD_INPUT)


def _executor(executor: str | None, jobs: int | None, scheduler: str | None) -> str:
    if scheduler and executor not in (None, "dask"):
        _fail(f"--scheduler joins a Dask cluster; it cannot be used with --executor {executor}", EXIT_BAD_INPUT)
    if scheduler:
        return "dask"
    return executor or ("process" if jobs and jobs > 1 else "serial")


def _run_sweep(plan, output: str | None, jobs: int | None, executor: str, scheduler: str | None,
               progress: bool, force: bool = False) -> None:
    import os

    from .experiment.folder import ForeignFiles
    from .experiment.sweep import run_sweep

    if executor == "serial":
        workers = 1
    else:  # a pool or a LocalCluster as wide as the machine unless told
        workers = jobs or os.cpu_count() or 1
    click.echo(f"{plan.source}: {len(plan.scenarios)} scenario(s) × {plan.replications} replication(s), "
               f"{executor}{'' if executor == 'serial' else f' ({workers} workers)'}")
    try:
        outcome = run_sweep(plan, output, executor=executor, jobs=workers, scheduler=scheduler, progress=progress,
                            force=force)
    except ForeignFiles as err:
        _fail(str(err), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        where = f"; run the same command again to resume from {output}" if output else ""
        _fail(f"interrupted: the points finished so far are kept{where}", 130)
    except OSError as err:
        _fail(f"{output or 'sweep'}: {err}", EXIT_FAILED)
    for problem in outcome.corrupt:
        click.echo(f"corrupt point, run again: {problem}", err=True)
    _print_scenarios(outcome.results)
    _print_differences(outcome.results.differences)
    _print_theory(plan.theory, outcome.results.summary)
    _print_stability(outcome.results.summary)
    click.echo(f"{outcome.points} points: {outcome.ran} run, {outcome.already_done} already done, "
               f"{outcome.failed} failed")
    if output:
        placement = ", placement.csv, unplaced.csv" if outcome.results.placement is not None else ""
        click.echo(f"{_written_to(output)} (summary.csv, scenarios.csv{placement}, points/)")
    if outcome.failed:
        for _, row in outcome.results.failures.iterrows():
            click.echo(f"  failed: scenario {row['scenario']} replication {row['replication']}: {row['error']}",
                       err=True)
        sys.exit(EXIT_FAILED)


SCENARIO_COLUMNS = (("throughput_per_s", "throughput /s"), ("response_time_mean_s", "response mean"),
                    ("response_time_p99_s", "response p99"), ("cpu_utilization", "CPU utilization"))
"""Times are shown in the unit of each scenario's mean (ms, s …)."""


PLACEMENT_SCENARIO_COLUMNS = (("hosts_used", "hosts used"), ("cpu_fragmentation", "CPU fragmentation"),
                              ("energy_j", "energy J"))


def _scenario_columns(results) -> tuple:
    """The job metrics, then placement and energy where the runs have them (only those for a placement study)."""
    table = results.scenarios
    extra = tuple((key, label) for key, label in PLACEMENT_SCENARIO_COLUMNS
                  if f"{key}_mean" in table.columns and table[f"{key}_mean"].notna().any())
    return extra if _placement_only(results) else SCENARIO_COLUMNS + extra


def _print_scenarios(results) -> None:
    """Per scenario: the swept values and each metric's mean ± 95 % CI half-width."""
    table = results.scenarios
    if table.empty:
        return
    several = "workload" in table.columns and table["workload"].nunique() > 1
    columns = _scenario_columns(results)
    rows = []
    for row in table.to_dict("records"):  # keeps each column's type (iterrows would make ints floats)
        cells = {"scenario": str(row["scenario"]), **{axis: str(row[axis]) for axis in results.axes}}
        if several:
            cells["workload"] = str(row["workload"])
        cells["n"] = str(row["replications"])
        for key, label in columns:
            mean, half = row[f"{key}_mean"], row[f"{key}_ci95"]
            # Times in the unit of the mean, named in the cell.
            cells[label] = estimate_text(mean, half, time_unit(mean) if key.startswith("response_time") else None)
        rows.append(cells)
    header = list(rows[0])
    for line in _table_lines(header, [[r[k] for k in header] for r in rows]):
        click.echo(line)


def _print_theory(theory: dict[str, float], summary) -> None:
    """Each metric the file's ``theory`` states beside the replications' mean and 95 % CI, and whether it covers it."""
    from .analysis import confidence_interval

    for metric, value in theory.items():
        if metric not in summary.columns or summary.empty:
            continue
        mean, half = confidence_interval(summary[metric])
        if half != half:  # one replication: no interval
            click.echo(f"  theory {metric} = {value:.4g}; simulated {mean:.4g} (one replication: no interval; "
                       "give replications: N for one)")
            continue
        verdict = "inside" if abs(mean - value) <= half else "OUTSIDE"
        click.echo(f"  theory {metric} = {value:.4g}; simulated {estimate_text(mean, half)} "
                   f"(95 % CI over {len(summary)} replications): {verdict}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seed", type=click.IntRange(min=0), help="Override the file's (root) seed.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set a field first, as for run.")
def show(file: str, seed: int | None, sets: tuple[str, ...]) -> None:
    """List the scenarios of the experiment FILE: each sweep point's values, and the seeds."""
    plan = _load_plan(file, seed, _overrides(sets, None))
    seeds = ", ".join(map(str, plan.seeds))
    click.echo(f"{file}: {len(plan.scenarios)} scenario(s) × {plan.replications} replication(s) = "
               f"{len(plan.scenarios) * plan.replications} run(s); seeds: {seeds}")
    rows = [[str(s.index), *(str(s.values[a]) for a in plan.axes)] for s in plan.scenarios]
    for line in _table_lines(["scenario", *plan.axes], rows, indent="  "):
        click.echo(line)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set a field first, as for run.")
def validate(file: str, sets: tuple[str, ...]) -> None:
    """Check the experiment FILE (every scenario of a sweep) and report every problem in it.

    Items a placement leaves out are not an error but are warned about on
    standard error, per scenario.
    """
    from .experiment.progress import scenarios_bar

    with scenarios_bar() as on_scenario:
        plan = _load_plan(file, None, _overrides(sets, None), on_scenario=on_scenario)
    spec = plan.scenarios[0].spec
    sweep = "" if plan.single_run else f"; {len(plan.scenarios)} scenario(s) × {plan.replications} replication(s)"
    click.echo(f"{file}: ok ({len(spec.hosts)} host(s), {len(spec.workloads)} workload(s){sweep})")
    if spec.placement is not None:
        _print_placement(spec.placement)
    _warn_unplaced(plan)


def _warn_unplaced(plan) -> None:
    """One warning on stderr per scenario whose placement leaves items out."""
    for scenario in plan.scenarios:
        placement = scenario.spec.placement
        if placement is None or not placement.unplaced:
            continue
        where = "" if plan.single_run and len(plan.scenarios) == 1 else f"scenario {scenario.index}: "
        names = ", ".join(u.name for u in placement.unplaced[:5]) + (" …" if len(placement.unplaced) > 5 else "")
        click.echo(f"warning: {where}{len(placement.unplaced)} item(s) cannot be placed ({names}); "
                   "the run simulates without them (unplaced.csv lists each and why)", err=True)


@main.command()
@click.argument("what", metavar="[KIND | NAME]", required=False)
def catalog(what: str | None) -> None:
    """List the catalog's profiles (hardware, hypervisors, os, engines, devices), or show one.

    With KIND, only that kind. With a profile NAME (kvm, or hypervisors/kvm),
    every field of that profile with its value and its source. Any profile can
    be named in an experiment file and any of its fields overridden there:
    {profile: kvm, net: {latency_us: 10}}. A profile's versions are listed
    under it and named as NAME@VERSION (vmware-workstation@3.2).
    """
    from .config.catalog import CATALOG_SCHEMAS, catalog_problems, find_profile, require_catalog

    try:
        require_catalog()
        if what is None or what in CATALOG_SCHEMAS:
            _list_catalog([what] if what else list(CATALOG_SCHEMAS))
        else:
            _show_profile(*find_profile(what))
    except ConfigError as err:  # names the profile's file when the file is at fault
        _fail("\n".join(catalog_problems(err)), EXIT_BAD_INPUT)


def _list_catalog(kinds: list[str]) -> None:
    from .config.catalog import catalog_names, catalog_versions, load_catalog_entry

    for k in kinds:
        click.echo(f"{k}:")
        for name in catalog_names(k):
            try:
                entry = load_catalog_entry(k, name)
            except ConfigError as err:
                click.echo(f"  {name:<22} (invalid: {err.problems[0]})")
                continue
            words = " ".join(str(entry.get("description", "")).split())
            click.echo(f"  {name:<22} {words[:90]}{'…' if len(words) > 90 else ''}")
            for version in catalog_versions(k, name):
                versioned = f"{name}@{version}"
                words = " ".join(str(load_catalog_entry(k, versioned).get("description", "")).split())
                click.echo(f"    {versioned:<20} {words[:90]}{'…' if len(words) > 90 else ''}")


def _show_profile(kind: str, name: str) -> None:
    """One profile: its description, then each value with the source it cites, wrapped."""
    import functools
    import textwrap

    from .config.catalog import catalog_dir, catalog_versions, load_catalog_entry
    from .config.profile_fields import profile_fields
    from .config.versions import split_ref

    wrap = functools.partial(textwrap.fill, width=100, break_on_hyphens=False, break_long_words=False)
    entry = load_catalog_entry(kind, name)
    base, version = split_ref(name)
    click.echo(f"{kind}/{name}  ({catalog_dir() / kind / f'{base}.yaml'})")
    description = " ".join(str(entry.get("description", "")).split())
    if description:
        click.echo(wrap(description, initial_indent="  ", subsequent_indent="  "))
    versions = catalog_versions(kind, base)
    if version is None and versions:
        click.echo(f"  versions: {', '.join(f'{base}@{v}' for v in versions)} (this is the current one)")
    elif version is not None:
        click.echo(f"  a version of {base} (the current one: virtsim catalog {base})")
    for field in profile_fields(entry):
        click.echo(f"\n{field.path}: {_yaml_value(field.value)}")
        if field.source is not None:
            text = " ".join(field.source.split())
            click.echo(wrap(text, initial_indent="  source: ", subsequent_indent="    "))


def _yaml_value(value: object) -> str:
    """A value as YAML flow text: 1.023, 218 MiB, true, [60, 70], {}."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=1000, allow_unicode=True).strip().removesuffix("\n...").strip()


@main.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Also write the full table (with sources and notes) to this CSV file.")
def fidelity(output: str | None) -> None:
    """Replay the calibration micro-benchmarks on the default profiles.

    Prints, per benchmark and stack, the simulated and the published value,
    the relative error and PASS / GAP (a known limitation, with its reason) /
    FAIL. Exits 1 only if a row expected to pass fails.
    """
    import math
    import time

    from .fidelity import BY_ID, FAIL, run_fidelity

    def num(value: float) -> str:
        if not math.isfinite(value):
            return "–"
        digits = 0 if value == 0 else max(0, 3 - math.floor(math.log10(abs(value))))
        return f"{value:,.{digits}f}"

    started = time.perf_counter()
    try:
        table = run_fidelity()
    except ConfigError as err:  # a broken catalog: a missing install copy, an edited profile
        _fail(f"the fidelity benchmarks cannot be set up: {err}", EXIT_BAD_INPUT)
    elapsed = time.perf_counter() - started
    notes: dict[str, int] = {}
    lines = []
    for row in table.to_dict("records"):  # keeps each column's type (iterrows would make ints floats)
        ref = ""
        if row["note"]:
            ref = f"[{notes.setdefault(row['note'], len(notes) + 1)}]"
        bound = BY_ID[row["id"]].bound
        tolerance = ("–" if not math.isfinite(row["tolerance"]) else {"min": "≥ published", "max": "≤ published"}
                     .get(bound, f"±{row['tolerance']:.0%}"))
        error = "–" if not math.isfinite(row["rel_error"]) else f"{row['rel_error']:+.1%}"
        lines.append((row["benchmark"], row["stack"], f"{row['metric']} ({row['unit']})", num(row["simulated"]),
                      num(row["published"]), error, tolerance, f"{row['status']} {ref}".strip()))
    header = ("benchmark", "stack", "metric (unit)", "simulated", "published", "error", "tolerance", "status")
    for line in _table_lines(header, lines, right={3, 4, 5}):
        click.echo(line)
    if notes:
        click.echo("\nnotes:")
        for text, number in notes.items():
            click.echo(f"  [{number}] {text}")
    counts = table["status"].value_counts()
    click.echo(f"\n{len(table)} rows: " + ", ".join(f"{counts[s]} {s}" for s in counts.index)
               + f"; {table.attrs.get('runs', 0)} simulations in {elapsed:.1f} s")
    if output:
        try:
            table.to_csv(output, index=False)
        except OSError as err:
            _fail(f"{output}: cannot write the table: {err}", EXIT_FAILED)
        click.echo(f"table written to {output}")
    if (table["status"] == FAIL).any():
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False),
              help="Folder for the PNG files (default: FOLDER itself).")
def plot(folder: str, output: str | None) -> None:
    """Draw every picture the result FOLDER (of virtsim run -o) allows, as PNG files for slides.

    The stack diagram (identical hosts drawn once), the network (when the
    experiment has a network section), where the response time
    went (per scenario for a sweep, with 95 % CIs over replications),
    utilization and steal over time (when the experiment had sample_interval),
    response time against load and a heatmap (when the results span a sweep),
    energy and hosts used per policy (a placement study). Says why it skips any.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    from .plots.folder import NotAResultFolder
    from .plots.report import plot_folder

    try:
        pictures = plot_folder(folder, output)
    except NotAResultFolder as err:
        _fail(str(err), EXIT_BAD_INPUT)
    except OSError as err:
        _fail(f"{output or folder}: cannot write pictures: {err}", EXIT_FAILED)
    for picture in pictures:
        if picture.path is not None:
            click.echo(f"wrote {picture.path}")
        else:
            click.echo(f"skipped {picture.name}: {picture.reason}")


@main.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Write to this file instead of printing.")
@click.option("--markdown", is_flag=True, help="The reference of every key (docs/reference.md) instead.")
def schema(output: str | None, markdown: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of experiment files, for editors.

    A YAML language server can use it to complete and check experiment files
    (for example a first line '# yaml-language-server: $schema=experiment.schema.json').
    """
    from pathlib import Path

    from .config.reference import reference_markdown
    from .config.schema import schema_json

    text = reference_markdown() if markdown else schema_json()
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as err:
        _fail(f"{output}: cannot write: {err}", EXIT_FAILED)
    click.echo(f"{'reference' if markdown else 'schema'} written to {output}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--vary", "path", required=True, help="The key to search over, e.g. 'hosts[0].count'.")
@click.option("--between", nargs=2, type=click.IntRange(min=1), required=True, metavar="LOW HIGH",
              help="The integer range to search.")
@click.option("--below", type=float, required=True, help="The target: the metric must stay below it.")
@click.option("--metric", default="response_time_p99_s", show_default=True,
              help="A column of summary.csv (or of workloads.csv with --workload).")
@click.option("--workload", help="Read the metric of this workload.")
@click.option("--replications", type=click.IntRange(min=1),
              help="Runs per probe, seeded as `virtsim run` seeds the file's replications "
                   "(default: the file's replications, or 5 when it has one).")
def capacity(file: str, path: str, between: tuple[int, int], below: float, metric: str, workload: str | None,
             replications: int) -> None:
    """Find the smallest value of a key (say, a host count) that keeps a metric below a target."""
    from .experiment.search import smallest_meeting

    low, high = between
    try:
        answer = smallest_meeting(file, path, low, high, below=below, metric=metric, workload=workload,
                                  replications=replications)
    except ConfigError as err:
        _fail(str(err), EXIT_BAD_INPUT)
    except (ValueError, OSError) as err:
        _fail(f"{file}: {err}", EXIT_BAD_INPUT)
    n, level = answer.replications, f"{answer.level:.0%}"
    rule = (f"mean of {n} replications, ± its {level} interval; a value meets the target when the whole "
            "interval is below it" if n > 1 else "one replication: no interval, the value itself decides")
    click.echo(f"{path} from {low} to {high}, {metric} below {below:g} ({rule}):")
    for p in sorted(answer.probes, key=lambda p: p.value):
        click.echo(f"  {path} = {p.value:<6} {metric} = {_estimate(p)}  {'meets' if p.meets else 'misses'}")
    if answer.smallest is None:
        click.echo(f"  none meets it: even {high} gives {_estimate(answer.probes[0])}")
    else:
        decided = {p.value: p for p in answer.probes}
        chosen = decided[answer.smallest]
        line = f"  smallest: {path} = {answer.smallest} (simulated): {metric} {_estimate(chosen)} < {below:g}"
        below_it = decided.get(answer.smallest - 1)
        if below_it is not None:
            line += f"; {answer.smallest - 1} gives {_estimate(below_it)}"
        click.echo(line)
    if answer.mmc_servers is not None:
        line = f"  M/M/c estimate: {answer.mmc_servers} servers"
        if answer.servers_per_step:
            line += f" = {path} ≥ {math.ceil(answer.mmc_servers / answer.servers_per_step)}"
            line += f" at {answer.servers_per_step:g} cores each"
        click.echo(line)
    if answer.mmc_note:
        click.echo(f"  ({answer.mmc_note})")
    sys.exit(0 if answer.smallest is not None else EXIT_FAILED)


def _estimate(probe) -> str:
    return estimate_text(probe.metric, probe.half_width)


if __name__ == "__main__":  # pragma: no cover
    main()
