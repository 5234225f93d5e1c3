"""Sweeps: one experiment file expanded into scenarios, each validated by the loader.

The expansion works on the raw data, before validation: an axis names a field by
its path (``hosts[0].hardware.cores``, ``duration``) and lists its values; the
scenarios are the cartesian product of the axes, in file order, the last axis
varying fastest. A group under ``zip`` is one axis whose paths move together::

    replications: 3
    sweep:
      hosts[0].hardware.cores: [1, 2, 4]
      zip:
        - {workloads[0].arrivals.rate: [0.5 /s, 0.8 /s], duration: [200 s, 100 s]}

Replication r of every scenario is seeded by the r-th child of
``SeedSequence(seed)``, so scenarios share their random numbers (common random
numbers) and differ only in what the sweep changes.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, Problem, format_value
from .loader import check_mapping, load_raw, read_source
from .spec import ExperimentSpec
from .theory import TheoryInput
from .translate import path_text
from .yaml_source import LineIndex

__all__ = ["Point", "Scenario", "SweepPlan", "load_sweep", "parse_path", "replication_seeds"]

ZIP_KEY = "zip"
MAX_SCENARIOS = 100_000
UNSWEEPABLE = {"sweep": "the sweep cannot sweep itself",
               "replications": "give replications once, at the top level",
               "seed": "replications take their seeds from it; use replications: N (or --seed)"}
_NAME = r"[A-Za-z_][\w-]*"
_PATH = re.compile(rf"{_NAME}(\[\d+\])*(\.{_NAME}(\[\d+\])*)*")
_STEP = re.compile(rf"({_NAME})|\[(\d+)\]")


@dataclass(frozen=True)
class Scenario:
    """One combination of axis values and the validated spec it gives."""

    index: int
    values: dict[str, Any]
    """Axis path → the value as written in the file."""
    spec: ExperimentSpec


@dataclass(frozen=True)
class Point:
    """One run of a sweep: a scenario, a replication and its seed."""

    scenario: Scenario
    replication: int
    seed: int


@dataclass(frozen=True)
class SweepPlan:
    """The scenarios of an experiment file and how often each is run."""

    source: str
    axes: tuple[str, ...]
    """Every swept path, in file order (zipped paths one by one)."""
    scenarios: tuple[Scenario, ...]
    replications: int
    root_seed: int
    single_run: bool
    """No sweep and one replication: the file's seed is used as is, as for a plain run."""
    theory: dict[str, float] = field(default_factory=dict)
    """The file's ``theory``: summary metric → its theoretical value (empty if none is stated)."""

    @property
    def seeds(self) -> list[int]:
        return run_seeds(self.root_seed, self.replications, self.single_run)

    def points(self) -> list[Point]:
        """Every run, scenario by scenario, replications in order."""
        seeds = self.seeds
        return [Point(s, r, seeds[r]) for s in self.scenarios for r in range(self.replications)]


def run_seeds(root_seed: int, replications: int, single_run: bool) -> list[int]:
    """Seed of each replication as ``virtsim run`` gives them: the file's seed as is for a single run
    (no sweep, one replication), else :func:`replication_seeds`."""
    return [root_seed] if single_run else replication_seeds(root_seed, replications)


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seed of each replication: the r-th child of ``SeedSequence(root_seed)``, as a plain int."""
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def parse_path(text: str) -> tuple[str | int, ...] | None:
    """``hosts[0].hardware.cores`` → ``('hosts', 0, 'hardware', 'cores')``; None if malformed."""
    if not _PATH.fullmatch(text):
        return None
    return tuple(key if key else int(index) for key, index in _STEP.findall(text))


def load_sweep(source: str | os.PathLike | dict, *, base_dir: str | os.PathLike | None = None,
               seed: int | None = None, overrides: Sequence[tuple[str, Any]] = (),
               on_scenario: Callable[[int, int], None] | None = None) -> SweepPlan:
    """Expand an experiment file (or dict) into its scenarios and validate each.

    ``seed`` overrides the file's root seed. ``overrides`` are (path, value)
    pairs set in the file's data before anything is checked, paths as a sweep
    axis names them (``hosts[0].count``); a path that cannot be set is reported
    at ``--set <path>``. ``on_scenario(done, total)`` is called after each
    scenario is validated (a progress bar). Raises ``ConfigError`` with every
    problem: in the sweep itself at ``sweep.<axis>``; in a scenario at the
    loader's path, with the scenario's axis values unless every scenario has it.
    """
    raw, lines, name, folder = read_source(source, base_dir=base_dir)
    check_mapping(raw, lines, name)
    raw = _overridden(raw, overrides, name)
    problems: list[Problem] = []
    replications = _replications(raw, lines, problems)
    axes = _axes(raw.get("sweep"), raw, lines, problems)
    count = _count(axes)
    if count > MAX_SCENARIOS:
        problems.append(Problem("sweep", f"gives {count:,} scenarios; at most {MAX_SCENARIOS:,} are allowed",
                                _line(lines, ("sweep",))))
    if "theory" in raw and "sweep" in raw:
        problems.append(Problem("theory", "states one answer for the whole file, but the sweep's scenarios differ; "
                                          "give theory in a file without sweep", _line(lines, ("theory",))))
    if problems:
        raise ConfigError(problems, name)

    base = {k: v for k, v in raw.items() if k not in ("sweep", "replications")}
    scenarios, failed = [], []
    for index, combination in enumerate(itertools.product(*(values for _, values in axes))):
        values: dict[str, Any] = {}
        data = copy.deepcopy(base)
        for (paths, _), value in zip(axes, combination):
            for path, item in zip(paths, value):
                set_path(data, parse_path(path), item)
                values[path] = item
        try:
            scenarios.append(Scenario(index, values, load_raw(data, lines, name, folder)))
        except ConfigError as err:
            failed.append((index, values, err.problems))
        if on_scenario is not None:
            on_scenario(index + 1, count)
    if failed:
        raise ConfigError(_scenario_problems(failed, count, _axis_lines(raw.get("sweep") or {}, lines)), name)
    root = raw.get("seed", 0) if seed is None else seed
    return SweepPlan(source=name, axes=tuple(p for paths, _ in axes for p in paths), scenarios=tuple(scenarios),
                     replications=replications, root_seed=root,
                     single_run="sweep" not in raw and replications == 1, theory=_theory(raw))


def _theory(raw: dict) -> dict[str, float]:
    """The file's ``theory`` values (already checked by the loader, as part of every scenario)."""
    stated = raw.get("theory")
    return TheoryInput.model_validate(stated).values() if isinstance(stated, dict) else {}


def _overridden(raw: dict, overrides: Sequence[tuple[str, Any]], name: str) -> dict:
    """A copy of ``raw`` with each (path, value) of ``overrides`` set; ``ConfigError`` naming any bad path."""
    if not overrides:
        return raw
    data, problems = copy.deepcopy(raw), []
    for path, value in overrides:
        parts, why = _path_problem(data, path, "'hosts[0].count' or 'duration'")
        if why:
            problems.append(Problem(f"--set {path}", why))
            continue
        set_path(data, parts, value)
    if problems:
        raise ConfigError(problems, name)
    return data


def _line(lines: LineIndex | None, loc: tuple) -> int | None:
    return lines.line(loc) if lines else None


def _replications(raw: dict, lines, problems: list[Problem]) -> int:
    value = raw.get("replications", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(Problem("replications", f"must be an integer ≥ 1, got {format_value(value)}",
                                _line(lines, ("replications",))))
        return 1
    return value


def _axes(sweep: object, raw: dict, lines, problems: list[Problem]) -> list[tuple[tuple[str, ...], list[tuple]]]:
    """The axes as (paths, value tuples); each zip group is one axis."""
    if sweep is None:
        return []
    if not isinstance(sweep, dict) or not sweep:
        problems.append(Problem("sweep", "must be a mapping of field paths to lists of values, such as "
                                         "'hosts[0].hardware.cores: [1, 2, 4]'", _line(lines, ("sweep",))))
        return []
    axes, seen = [], set()
    for key, values in sweep.items():
        if key == ZIP_KEY:
            axes.extend(_zip_groups(values, raw, lines, problems, seen))
            continue
        if _check_axis(str(key), values, ("sweep", key), raw, lines, problems, seen):
            axes.append(((key,), [(v,) for v in values]))
    return axes


def _zip_groups(groups: object, raw: dict, lines, problems: list[Problem], seen: set) -> list:
    where = ("sweep", ZIP_KEY)
    if not isinstance(groups, list) or not groups:
        problems.append(Problem("sweep.zip", "must be a list of groups, each a mapping of field paths to "
                                             "equally long lists", _line(lines, where)))
        return []
    axes = []
    for g, group in enumerate(groups):
        loc = (*where, g)
        if not isinstance(group, dict) or not group:
            problems.append(Problem(path_text(loc), "must be a mapping of field paths to equally long lists",
                                    _line(lines, loc)))
            continue
        ok = [_check_axis(str(key), values, (*loc, key), raw, lines, problems, seen) for key, values in group.items()]
        if not all(ok):
            continue
        lengths = {key: len(values) for key, values in group.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{key}: {n}" for key, n in lengths.items())
            problems.append(Problem(path_text(loc), f"zipped lists must be equally long; got {shown}",
                                    _line(lines, loc)))
            continue
        axes.append((tuple(group), list(zip(*group.values()))))
    return axes


def _check_axis(path: str, values: object, loc: tuple, raw: dict, lines, problems: list[Problem],
                seen: set) -> bool:
    """Record what is wrong with one axis; True if it is usable."""
    shown = f"{path_text(loc[:-1])}.{path}"

    def bad(message: str) -> bool:
        problems.append(Problem(shown, message, _line(lines, loc)))
        return False

    parts, why = _path_problem(raw, path, "'hosts[0].hardware.cores' or 'duration'")
    if parts is None:
        return bad(why)
    if parts[0] in UNSWEEPABLE:
        return bad(f"cannot be swept: {UNSWEEPABLE[parts[0]]}")
    if path in seen:
        return bad("is swept twice")
    seen.add(path)
    if why:
        return bad(why)
    if not isinstance(values, list) or not values:
        return bad(f"must be a non-empty list of values, got {format_value(values)}")
    return True


def _path_problem(raw: dict, path: str, example: str) -> tuple[tuple[str | int, ...] | None, str | None]:
    """``path`` parsed (None if malformed) and why it cannot be set in ``raw`` (None if it can).

    ``example`` shows well-formed paths in the message for a malformed one.
    """
    parts = parse_path(path)
    if parts is None:
        return None, f"not a field path; write it like {example}"
    return parts, _missing(raw, parts)


def _missing(raw: dict, parts: Sequence[str | int]) -> str | None:
    """Why ``parts`` cannot be set in ``raw`` (None if it can: every parent exists)."""
    node: Any = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = path_text(tuple(parts[:depth])) or "the top level"
        if isinstance(part, int):
            if not isinstance(node, list):
                return f"{here} is not a list"
            if part >= len(node):
                name = path_text(tuple(parts[: depth + 1]))
                return f"no {name} in this file ({len(node)} {_plural(parts[depth - 1], len(node))})"
        else:
            if not isinstance(node, dict):
                return f"{here} is {format_value(node)}, not a mapping; sweep the whole {here} instead"
            if part not in node:
                if last:
                    return None  # a key the file leaves at its default
                return f"no key {part!r} at {here} (keys: {', '.join(map(str, node))})"
        node = node[part]
    return None


def _plural(key: str | int, n: int) -> str:
    word = str(key)
    return word if n != 1 or not word.endswith("s") else word[:-1]


def set_path(data: dict, parts: tuple, value: Any) -> None:
    """Put (a copy of) ``value`` at ``parts`` (from :func:`parse_path`) in a raw experiment mapping."""
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = copy.deepcopy(value)


def _count(axes: list) -> int:
    count = 1
    for _, values in axes:
        count *= len(values)
    return count


def _label(values: dict[str, Any]) -> str:
    return ", ".join(f"{path}={value}" for path, value in values.items())


def _axis_lines(sweep: dict, lines: LineIndex | None) -> dict[str, int | None]:
    """Line of each axis in the sweep, where a problem with a swept value is placed."""
    out = {key: _line(lines, ("sweep", key)) for key in sweep if key != ZIP_KEY}
    for g, group in enumerate(sweep.get(ZIP_KEY, [])):
        out.update({key: _line(lines, ("sweep", ZIP_KEY, g, key)) for key in group})
    return out


def _scenario_problems(failed: list, count: int, axis_lines: dict[str, int | None]) -> list[Problem]:
    """A problem every scenario has is reported once; the others with their scenario's values,
    placed at the sweep's line when the problem lies in a swept field."""
    seen: dict[Problem, list[tuple[int, dict]]] = {}
    for index, values, problems in failed:
        for problem in problems:
            seen.setdefault(problem, []).append((index, values))
    out = []
    for problem, where in seen.items():
        if len(where) == count:
            out.append(problem)
            continue
        for index, values in where:
            line = next((axis_lines[axis] for axis in values
                         if problem.path == axis or problem.path.startswith((f"{axis}.", f"{axis}["))), problem.line)
            out.append(Problem(problem.path, f"in scenario {index} ({_label(values)}): {problem.message}", line))
    return out
