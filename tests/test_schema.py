"""The JSON Schema of experiment files, and the key reference generated from it.

Every shipped experiment (and the README's) validates against the schema;
files the loader rejects for a reason a schema can express are rejected by
it too; the unit-string patterns accept only what the parser accepts; and
``docs/reference.md`` is what the generator writes today.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.cli import main
from virtsim.config.inputs import ExperimentInput
from virtsim.config.reference import reference_markdown
from virtsim.config.schema import SCHEMA_DIALECT, experiment_schema
from virtsim.config.units import UNIT_PATTERNS, parse_quantity

ROOT = Path(__file__).parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("**/*.yaml"))
REFERENCE = ROOT / "docs" / "reference.md"


@pytest.fixture(scope="module")
def validator():
    schema = experiment_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_is_draft_2020_12():
    schema = experiment_schema()
    assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == set(ExperimentInput.model_fields)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[str(p.relative_to(ROOT / "experiments")) for p in EXPERIMENTS])
def test_every_experiment_file_validates(path, validator):
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
    assert errors == []


def test_the_readme_experiments_validate(validator):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", readme, re.S | re.M)]
    experiments = [b for b in blocks if isinstance(b, dict) and "hosts" in b]
    assert len(experiments) >= 2
    for raw in experiments:
        assert [e.message for e in validator.iter_errors(raw)] == []


GOOD = yaml.safe_load((ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8"))


def changed(path: tuple, value) -> dict:
    """A deep copy of GOOD with the key at ``path`` set (or deleted if value is ...)."""
    raw = json.loads(json.dumps(GOOD))
    node = raw
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


BAD = {
    "a misspelt key": changed(("durration",), "10 s"),
    "no way to stop": changed(("duration",), ...),
    "vcpus 0": changed(("hosts", 0, "vms", 0, "vcpus"), 0),
    "memory without a unit": changed(("hosts", 0, "vms", 0, "memory"), 8),
    "memory as a time": changed(("hosts", 0, "vms", 0, "memory"), "8 s"),
    "a duration as a size": changed(("duration",), "20 GiB"),
    "a rate in bytes": changed(("workloads", 0, "arrivals", "rate"), "3 MB"),
    "an unknown network mode": changed(("hosts", 0, "vms", 1, "containers", 0, "network"), "nats"),
    "an unknown distribution": changed(("workloads", 0, "demand", "cpu"), {"type": "gaussian", "mean": "1 s"}),
    "a host without hardware": changed(("hosts", 0, "hardware"), ...),
    "a negative sample interval": changed(("sample_interval",), -1),
}


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_bad_files_fail_the_schema_and_the_loader(raw, validator):
    assert list(validator.iter_errors(raw)), "the schema accepted it"
    with pytest.raises(virtsim.ConfigError):
        virtsim.load_experiment(raw)


ACCEPTED = {
    "time": ["20 s", "150 ms", "2 h", "1.5 min", "10", "3e2 s", "250 us", "250 µs", "1 hour", "0.5 seconds"],
    "size": ["8 GiB", "512 MiB", "1 TB", "4 KiB", "4 KB", "4KB", "100 B", "2 bytes"],
    "rate": ["0.8 /s", "30 /min", "2 per h", "5", "10 Hz", "1 per second"],
    "bandwidth": ["10 Gbit/s", "800 MB/s", "1 GiB/s", "3 GB/s", "100 Mbit/s", "25 Gbit / s"],
}
REJECTED = {
    "time": ["s", "fast", "10 GiB", "1 s s", ""],
    "size": ["8", "8 G", "8 s", "GiB"],
    "rate": ["/s", "1 MB", "1 s"],
    "bandwidth": ["10 Gbit", "800 MB", "1 /s"],
}


@pytest.mark.parametrize("kind", UNIT_PATTERNS)
def test_the_unit_patterns_accept_only_what_the_parser_accepts(kind):
    pattern = re.compile(UNIT_PATTERNS[kind])
    for text in ACCEPTED[kind]:
        assert pattern.match(text), text
        parse_quantity(text, kind)  # does not raise
    for text in REJECTED[kind]:
        assert not pattern.match(text), text


@pytest.mark.parametrize("kind", UNIT_PATTERNS)
def test_every_text_a_unit_pattern_matches_parses(kind):
    @settings(max_examples=150, deadline=None, database=None)
    @given(st.from_regex(UNIT_PATTERNS[kind], fullmatch=True))
    def parses(text):
        parse_quantity(text, kind)

    parses()


def test_virtsim_schema_prints_and_writes_it(tmp_path):
    runner = CliRunner()
    printed = runner.invoke(main, ["schema"])
    assert printed.exit_code == 0
    assert json.loads(printed.output) == experiment_schema()
    written = runner.invoke(main, ["schema", "-o", str(tmp_path / "experiment.schema.json")])
    assert written.exit_code == 0 and "schema written to" in written.output
    assert json.loads((tmp_path / "experiment.schema.json").read_text(encoding="utf-8")) == experiment_schema()
    markdown = runner.invoke(main, ["schema", "--markdown"])
    assert markdown.output == reference_markdown()


def test_the_committed_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/reference.md is stale: run  python -m virtsim.config.reference > docs/reference.md")


def test_the_reference_lists_every_key_and_the_readme_links_it():
    text = reference_markdown()
    defs = experiment_schema()["$defs"]
    for node in [experiment_schema(), *defs.values()]:
        for key in node.get("properties", {}):
            assert f"| `{key}` |" in text
    assert "(docs/reference.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
