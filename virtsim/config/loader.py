"""Load an experiment: read, validate, resolve, cross-check; report every problem."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel, TypeAdapter, ValidationError

from ..data.arrivals_file import ArrivalsTable, load_arrivals_file
from ..data.errors import DataFileError
from ..wording import unknown
from . import inputs as i
from .catalog import require_catalog
from .checks import PlacedHost, check_hosts, check_unique_names, check_workloads, target_cores, target_names
from .comparison import resolve_comparison
from .consolidation import resolve_consolidation
from .errors import ConfigError, Problem, from_data_error
from .failures import resolve_failures
from .migration import MigrationEntryInput, MigrationInput, resolve_migrations
from .hosts import resolve_host
from .load_inputs import LoadInput
from .loads import resolve_loads
from .network import resolve_network
from .network_inputs import LinkInput
from .pool import PoolOutcome, RehomingContext, place_pool
from .resolution import Context
from .resolve import check_client_failures, resolve_workload
from .calls import check_calls
from .software import check_holds, resolve_software_resources
from .spec import ExperimentSpec, UnplacedItem, WorkloadSpec
from .storage import check_remote_storage
from .translate import problems_from
from .yaml_source import LineIndex, read_yaml

__all__ = ["check_mapping", "dump_resolved", "load_arrivals", "load_experiment", "load_raw", "read_source"]

_TOP_KEYS = ", ".join(i.ExperimentInput.model_fields)
_STOPPING_KEYS = ("duration", "warmup", "stop_after_jobs", "sample_interval")


def load_experiment(source: str | os.PathLike | dict, *, base_dir: str | os.PathLike | None = None) -> ExperimentSpec:
    """Load and resolve an experiment from a YAML file path or an already-parsed dict.

    Relative data-file paths resolve against the YAML file's folder (for a
    dict: ``base_dir``, else the current directory). Raises ``ConfigError``
    listing every problem found. A file's ``replications`` and ``sweep`` say
    how often and with which variations to run it (see ``load_sweep``); they
    leave the spec of the file as written unchanged.
    """
    return load_raw(*read_source(source, base_dir=base_dir))


def read_source(source: str | os.PathLike | dict, *, base_dir: str | os.PathLike | None = None):
    """(raw data, line index or None, name for messages, folder for data files) of a path or dict."""
    if isinstance(source, dict):
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
        return source, None, "<dict>", folder
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        raw, lines = read_yaml(path)
        folder = Path(base_dir) if base_dir is not None else path.resolve().parent
        return raw, lines, str(source), folder
    raise TypeError(f"source must be a path or a dict, got {type(source).__name__}")


def check_mapping(raw: object, lines: LineIndex | None, name: str) -> None:
    """Raise ``ConfigError`` unless the file's top level is a mapping."""
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        message = f"must be a mapping with keys such as {_TOP_KEYS}; got {got}"
        raise ConfigError([Problem("", message, 1 if lines else None)], name)


def load_raw(raw: object, lines: LineIndex | None, name: str, folder: Path) -> ExperimentSpec:
    """Validate and resolve parsed experiment data; ``lines`` places problems in the file."""
    check_mapping(raw, lines, name)
    require_catalog()  # one clear error for a broken install, not one per profile named
    ctx = Context(base_dir=folder, lines=lines)
    parsed, hosts, workloads, top = _validate(raw, ctx)
    hosts = _copies(hosts)
    _check_stopping(top, raw, ctx)
    check_unique_names([(n, host) for n, host, _, _ in hosts], "hosts", "host", ctx)
    check_unique_names(workloads, "workloads", "workload", ctx)
    placed = [PlacedHost(n, spec, tuple(vms), tuple(ctrs)) for n, host, vms, ctrs in hosts
              if (spec := resolve_host(host, ("hosts", n), ctx, vms, ctrs))]
    targets = target_names(raw.get("hosts"))
    failure_inputs = (list(enumerate(parsed.failures)) if parsed is not None
                      else _parsed_items(raw.get("failures"), i.FailureInput))
    parsed_workloads = {n for n, _ in workloads}
    pool = _parsed_field(raw, "placement")
    outcome = None
    if pool is not None:
        seed = _parsed_field(raw, "seed") or 0
        outcome = place_pool(pool, hosts, placed, seed, ctx)
        ctx = RehomingContext(ctx, outcome.rehome)
        placed = [PlacedHost(n, spec, tuple(vms), tuple(ctrs)) for n, host, vms, ctrs in outcome.hosts
                  if (spec := resolve_host(host, ("hosts", n), ctx, vms, ctrs))]
        targets |= {target for host in placed for target in target_cores([host.spec])}
        workloads, failure_inputs = _aim_at_placed(outcome, workloads, failure_inputs)
    check_hosts(placed, ctx)
    network = _resolve_network(raw, placed, ctx)
    check_remote_storage(placed, network, isinstance(raw.get("network"), dict), ctx)
    workload_specs = [(n, spec) for n, wl in workloads
                      if (spec := resolve_workload(wl, ("workloads", n), ctx, targets))]
    check_workloads(workload_specs, [host.spec for host in placed], ctx)
    software = resolve_software_resources(list(enumerate(parsed.software_resources)) if parsed is not None
                                          else _parsed_items(raw.get("software_resources"),
                                                             i.SoftwareResourceInput), ctx)
    check_holds(workload_specs, software, ctx)
    check_calls(workload_specs, network, ctx)
    comparison = None
    compare = _parsed_field(raw, "compare")
    if compare is not None:
        comparison, workload_specs = resolve_comparison(compare, [host.spec for host in placed], workload_specs, ctx)
    _check_unparsed_targets(raw.get("workloads"), parsed_workloads, targets, ctx,
                            outcome.resolve_path if outcome is not None else None)
    failures = resolve_failures(failure_inputs, [host.spec for host in placed], ctx)
    check_client_failures(workload_specs, failure_inputs, ctx)
    load_inputs = (list(enumerate(parsed.loads)) if parsed is not None
                   else _parsed_loads(raw.get("loads")))
    loads = resolve_loads(load_inputs, [host.spec for host in placed], ctx)
    migration_entries = (list(enumerate(parsed.migrations)) if parsed is not None
                         else _parsed_items(raw.get("migrations"), MigrationEntryInput))
    migration = resolve_migrations(parsed.migration if parsed is not None else _parsed_field(raw, "migration"),
                                   migration_entries, [host.spec for host in placed],
                                   parsed.duration if parsed is not None else _parsed_field(raw, "duration"), ctx)
    _check_moved_loads(migration, loads, ctx)
    consolidation = resolve_consolidation(
        parsed.consolidation if parsed is not None else _parsed_field(raw, "consolidation"),
        [host.spec for host in placed], parsed.duration if parsed is not None else _parsed_field(raw, "duration"),
        ctx)
    if consolidation is not None and network is not None:
        ctx.add(("consolidation",), "consolidation in an experiment with a 'network' section is not supported yet: "
                                    "its migrations would cross the network's links, which is not modelled; remove "
                                    "'network' or 'consolidation'")
    if migration is not None and migration.moves and network is not None:
        # The fabric carries the VM's flows; moving them (and the migration's own bytes) over it is not built.
        ctx.add(("migrations",), "live migration in an experiment with a 'network' section is not supported yet: "
                                 "a migrating VM's flows and the migration's bytes over the network's links are "
                                 "not modelled; remove 'network' or 'migrations'")

    if ctx.problems:
        raise ConfigError(_ordered(ctx.problems), name)
    return ExperimentSpec(
        name=parsed.name,
        description=parsed.description,
        seed=parsed.seed,
        duration_s=parsed.duration,
        warmup_s=parsed.warmup,
        stop_after_jobs=parsed.stop_after_jobs,
        cold_start=parsed.cold_start,
        sample_interval_s=parsed.sample_interval,
        hosts=tuple(host.spec for host in placed),
        workloads=tuple(spec for _, spec in workload_specs),
        failures=failures,
        placement=outcome.spec if outcome is not None else None,
        network=network,
        migration=migration,
        consolidation=consolidation,
        energy=parsed.energy,
        software_resources=software,
        loads=loads,
        comparison=comparison,
        source=name,
    )


def dump_resolved(spec: BaseModel) -> dict[str, Any]:
    """The resolved spec as JSON-ready plain data, keys in definition order.

    Parsed data-file columns are left out (files are identified by path and
    SHA-256), so the result is small and suitable for manifests and hashing.
    """
    return spec.model_dump(mode="json")


def load_arrivals(spec: ExperimentSpec, workload: WorkloadSpec) -> ArrivalsTable:
    """The parsed jobs of a workload with file arrivals.

    Returns the table parsed when the experiment was loaded; parses the file
    only if the spec came without it (for example rebuilt from a dump).
    """
    arrivals = workload.jobs_file
    if arrivals is None:
        raise ValueError(f"workload {workload.name!r} does not take its arrivals from a file")
    if arrivals.table is not None:
        return arrivals.table
    try:
        return load_arrivals_file(arrivals.path, target_cores(spec.hosts), default_target=workload.target)
    except DataFileError as err:  # the file changed since the spec was made
        raise from_data_error(err) from None


def _validate(raw: dict, ctx: Context):
    """Validate against the input schema, recording problems.

    Returns the parsed experiment (None if anything failed) and the pieces
    that did parse: hosts as (index, host, VM indices, host-container indices),
    workloads as (index, workload), and the stopping keys.
    """
    try:
        parsed = i.ExperimentInput.model_validate(raw)
    except ValidationError as err:
        ctx.problems.extend(problems_from(err, i.ExperimentInput, lines=ctx.lines))
    else:
        hosts = [(n, host, range(len(host.vms)), range(len(host.containers))) for n, host in enumerate(parsed.hosts)]
        top = {key: getattr(parsed, key) for key in _STOPPING_KEYS}
        return parsed, hosts, list(enumerate(parsed.workloads)), top
    # keep checking the parts that did parse
    hosts = _parsed_hosts(raw.get("hosts"))
    workloads = _parsed_items(raw.get("workloads"), i.WorkloadInput)
    top = {key: _parsed_field(raw, key) for key in _STOPPING_KEYS}
    return None, hosts, workloads, top


def _resolve_network(raw: dict, placed: list[PlacedHost], ctx: Context):
    """The ``network`` section over the resolved hosts; left to later when a host has problems of its own
    (its name would then look unknown to the network)."""
    section, link_indices = _parsed_network(raw.get("network"))
    raw_hosts = raw.get("hosts")
    if section is None or not isinstance(raw_hosts, list) or {p.index for p in placed} != set(range(len(raw_hosts))):
        return None
    return resolve_network(section, [host.spec for host in placed], ctx, link_indices)


def _parsed_network(raw: object) -> tuple[i.NetworkInput | None, list[int] | None]:
    """The section, or (when some links are invalid) the section without them and the file indices of those
    kept; (None, None) when it is absent or invalid otherwise."""
    if not isinstance(raw, dict):
        return None, None
    try:
        return i.NetworkInput.model_validate(raw), None
    except ValidationError:
        pass  # already reported by the whole-file validation
    kept = _parsed_items(raw.get("links"), LinkInput)
    if not kept or len(kept) == len(raw.get("links")):
        return None, None
    try:
        return i.NetworkInput.model_validate({**raw, "links": [raw["links"][n] for n, _ in kept]}), \
            [n for n, _ in kept]
    except ValidationError:
        return None, None


def _aim_at_placed(outcome: PoolOutcome, workloads: list, failures: list) -> tuple[list, list]:
    """Targets and failure domains naming pool items get their host; those aimed at unplaced items are left out.

    What is left out is recorded with the unplaced items, never silently dropped.
    """
    kept_workloads, kept_failures, dropped = [], [], []
    for n, wl in workloads:
        missing = outcome.unplaced_head(wl.target) if wl.target is not None else None
        if missing is not None:
            dropped.append(UnplacedItem(name=wl.name, kind="workload", reason=f"its target {missing!r} was not placed"))
        else:
            target = outcome.resolve_path(wl.target) if wl.target is not None else None
            kept_workloads.append((n, wl.model_copy(update={"target": target})))
    for n, failure in failures:
        missing = outcome.unplaced_head(failure.domain)
        if missing is not None:
            dropped.append(UnplacedItem(name=f"failures[{n}]", kind="failure",
                                        reason=f"its domain {missing!r} was not placed"))
        else:
            kept_failures.append((n, failure.model_copy(update={"domain": outcome.resolve_path(failure.domain)})))
    outcome.spec = outcome.spec.model_copy(update={"unplaced": (*outcome.spec.unplaced, *dropped)})
    return kept_workloads, kept_failures


def _check_unparsed_targets(items: object, parsed: set[int], targets: set[str], ctx: Context,
                            resolve_path=None) -> None:
    """An unknown target is reported even where the rest of its workload is invalid."""
    for n, item in enumerate(items if isinstance(items, list) else []):
        if n in parsed or not isinstance(item, dict):
            continue
        target = item.get("target")
        if isinstance(target, str) and resolve_path is not None:
            target = resolve_path(target)
        if isinstance(target, str) and target not in targets:
            ctx.add(("workloads", n, "target"), unknown("target", target, targets))


def _check_stopping(top: dict, raw: dict, ctx: Context) -> None:
    duration, warmup = top.get("duration"), top.get("warmup")
    if "duration" not in raw and "stop_after_jobs" not in raw:
        ctx.add(("duration",), "required key is missing: give 'duration', 'stop_after_jobs' or both")
    if duration is not None and warmup is not None and warmup >= duration:
        ctx.add(("warmup",), f"must be less than duration ({duration:g} s), got {warmup:g} s")
    interval = top.get("sample_interval")
    if duration is not None and interval is not None and interval > duration:
        ctx.add(("sample_interval",), f"must be at most duration ({duration:g} s), got {interval:g} s")


def _check_moved_loads(migration, loads, ctx: Context) -> None:
    """A VM whose trace load is on the VM itself migrates with it; one whose load is on something inside it
    (a container, a nested VM) cannot yet."""
    if migration is None:
        return
    loaded = {target for load in loads for target in load.targets}
    for move in migration.moves:
        if any(t.startswith(f"{move.vm}/") for t in loaded):
            where = next(n for n, e in enumerate(migration.moves) if e.vm == move.vm)
            ctx.add(("migrations",), f"VM {move.vm!r} (move {where + 1}) holds the target of a trace load "
                                     f"('loads') inside it: migrating a VM whose containers or nested VMs replay "
                                     f"a trace is not supported yet (a load on the VM itself follows it)")


def _parsed_loads(items: object) -> list[tuple[int, Any]]:
    """The ``loads`` entries that validate on their own (of either type)."""
    return [(n, entry.root) for n, entry in _parsed_items(items, RootModel[LoadInput])]


def _parsed_items(items: object, model: type[BaseModel]) -> list[tuple[int, Any]]:
    """(index, model) for each list item that validates on its own."""
    parsed = []
    for n, item in enumerate(items if isinstance(items, list) else []):
        try:
            parsed.append((n, model.model_validate(item)))
        except ValidationError:
            pass  # already reported by the whole-file validation
    return parsed


def _copies(hosts: list[tuple]) -> list[tuple]:
    """Hosts with a ``count`` become that many, named ``<name>-1`` …; problems still point at the entry."""
    out = []
    for n, host, vms, ctrs in hosts:
        if host.count == 1:
            out.append((n, host, vms, ctrs))
        else:
            out.extend((n, host.model_copy(update={"name": f"{host.name}-{k}", "count": 1}), vms, ctrs)
                       for k in range(1, host.count + 1))
    return out


def _parsed_hosts(items: object) -> list[tuple[int, i.HostInput, list[int], list[int]]]:
    """Hosts that validate once their invalid VMs and containers are left out.

    Returns (host index, host, file indices of kept VMs, of kept host containers).
    """
    hosts = []
    for n, raw in enumerate(items if isinstance(items, list) else []):
        if not isinstance(raw, dict):
            continue
        kept = {key: _parsed_items(raw.get(key), model)
                for key, model in (("vms", i.VMInput), ("containers", i.ContainerInput))}
        pruned = {**raw, **{key: [item for _, item in pairs] for key, pairs in kept.items() if key in raw}}
        try:
            host = i.HostInput.model_validate(pruned)
        except ValidationError:
            continue
        hosts.append((n, host, [j for j, _ in kept["vms"]], [k for k, _ in kept["containers"]]))
    return hosts


def _parsed_field(raw: dict, key: str) -> Any:
    field = i.ExperimentInput.model_fields[key]
    if key not in raw:
        return field.get_default(call_default_factory=True)
    try:
        return TypeAdapter(field.annotation).validate_python(raw[key])
    except ValidationError:
        return None


def _ordered(problems: list[Problem]) -> list[Problem]:
    """File order when lines are known (problems without a line keep their order, last)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda problem: (problem.line is None, problem.line or 0))
