"""The Hypothesis profile the suite runs under: fixed in CI, random elsewhere (see conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")

CASES = {
    "CI=true": {"CI": "true"},
    "HYPOTHESIS_PROFILE=ci": {"HYPOTHESIS_PROFILE": "ci"},
    "nothing set": {},
    "CI=false": {"CI": "false"},
    "CI=1, HYPOTHESIS_PROFILE=dev": {"CI": "1", "HYPOTHESIS_PROFILE": "dev"},
}

# In a fresh interpreter whose environment has CI set (so Hypothesis may load a CI profile of
# its own on import): run conftest.py once per case and print what it loaded.
PROBE = f"""
import importlib.util, json, os
from hypothesis import settings
found = {{}}
for name, env in json.loads(os.environ["PROBE_CASES"]).items():
    for key in ("CI", "HYPOTHESIS_PROFILE"):
        os.environ.pop(key, None)
    os.environ.update(env)
    spec = importlib.util.spec_from_file_location("conftest_probe", {str(CONFTEST)!r})
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    s = settings.default
    found[name] = {{"profile": module.HYPOTHESIS_PROFILE, "derandomize": s.derandomize,
                   "no database": s.database is None, "no deadline": s.deadline is None,
                   "print_blob": s.print_blob, "max_examples": s.max_examples}}
print(json.dumps(found))
"""


def test_ci_runs_a_fixed_derandomized_profile_and_elsewhere_examples_stay_random():
    env = {**os.environ, "CI": "1", "PROBE_CASES": json.dumps(CASES)}
    env.pop("HYPOTHESIS_PROFILE", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    fixed = {"profile": "ci", "derandomize": True, "no database": True, "no deadline": True, "print_blob": True,
             "max_examples": 100}
    assert found["CI=true"] == fixed
    assert found["HYPOTHESIS_PROFILE=ci"] == fixed
    for case in ("nothing set", "CI=false", "CI=1, HYPOTHESIS_PROFILE=dev"):
        assert (found[case]["profile"], found[case]["derandomize"]) == ("dev", False), case
