"""Every table of every shipped experiment file is, bit for bit, what the recorded commit wrote.

The fingerprints in ``tests/data/table-digests.json`` were recorded on the commit
named in the file (see ``tests/table_digests.py``). A change meant to leave
results alone (a refactoring, a speed-up, a new feature that is off by default)
must pass this unchanged; a change meant to alter results re-records them and
says so in its commit message.
"""

from __future__ import annotations

import json

import table_digests


def test_every_experiment_file_is_recorded():
    recorded = json.loads(table_digests.RECORD.read_text(encoding="utf-8"))["experiments"]
    assert set(recorded) == {table_digests.experiment_name(path) for path in table_digests.experiment_files()}


def test_every_table_of_every_experiment_is_unchanged():
    recorded = json.loads(table_digests.RECORD.read_text(encoding="utf-8"))
    now = table_digests.all_digests(workers=2)
    assert sum(map(len, now.values())) > 400  # the runs wrote their tables: sweeps, points and all
    changed = table_digests.differences(recorded["experiments"], now)
    assert not changed, f"tables differ from those of {recorded['commit']}:\n" + "\n".join(changed)
