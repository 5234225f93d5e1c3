"""Which hosts are empty: nothing placed on them and nothing aimed at them.

A host is *empty* when it has no VM and no container (listed in the file or
placed there) and no workload targets it, directly or through a file of
arrivals. An empty host can be switched off for the whole run
(``energy.switch_off_empty``).
"""

from __future__ import annotations

__all__ = ["empty_hosts"]


def empty_hosts(spec, tables=None) -> set[str]:
    """Names of the hosts of a resolved experiment that are empty.

    ``tables`` (workload name → parsed arrivals) stands in for file arrivals a
    spec rebuilt from its dump no longer carries.
    """
    targeted: set[str] = set()
    for w in spec.workloads:
        if w.target is not None:
            targeted.add(w.target.partition("/")[0])
        table = (tables or {}).get(w.name) or getattr(w.jobs_file, "table", None)
        if table is not None:
            targeted.update(name.partition("/")[0] for name in table.target_names)
    return {h.name for h in spec.hosts if not h.vms and not h.containers and h.name not in targeted}
