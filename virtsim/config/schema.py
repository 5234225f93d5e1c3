"""The JSON Schema (draft 2020-12) of experiment files, generated from the input models.

Editors use it to complete and check experiment files (YAML language servers
read JSON Schema); ``reference.py`` renders the same schema as a key reference.
The loader stays the authority: it also checks what a schema cannot express
(targets, capacities, a quantity's bounds when written with a unit).
"""

from __future__ import annotations

import json

from .inputs import ExperimentInput

__all__ = ["SCHEMA_DIALECT", "experiment_schema", "schema_json"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def experiment_schema() -> dict:
    """The schema as a dict: the top level is an experiment, the pieces are under ``$defs``."""
    schema = ExperimentInput.model_json_schema(mode="validation")
    schema["title"] = "virtsim experiment"
    # What makes a run end: the loader requires one of the two (or both).
    schema["anyOf"] = [{"required": ["duration"]}, {"required": ["stop_after_jobs"]}]
    return {"$schema": SCHEMA_DIALECT, **schema}


def schema_json() -> str:
    """The schema as indented JSON text, ending with a newline (what ``virtsim schema`` prints)."""
    return json.dumps(experiment_schema(), indent=2, ensure_ascii=False) + "\n"
