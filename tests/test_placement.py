"""Placement policies: which host each pool item lands on, on small hand-checked cases.

Hosts here are native with 4 cores and 8 GiB (no layers, so a VM asks exactly
its vCPUs and RAM); the pool is placed in the order written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.config.spec import UnplacedItem
from virtsim.placement.policies import Fit, Item, Room, kube_score, place

GIB = 2**30


def experiment(policy: str, vms, *, hosts=3, seed=0, workloads=(), **placement) -> dict:
    return {
        "name": "pool", "duration": "10 s", "seed": seed,
        "hosts": [{"name": f"h{n}", "hardware": {"cores": 4, "memory": "8 GiB"}} for n in range(1, hosts + 1)],
        "placement": {"policy": policy, "vms": vms, **placement},
        "workloads": list(workloads),
    }


def vm(name: str, vcpus: int, memory_gib: float = 1) -> dict:
    return {"name": name, "vcpus": vcpus, "memory": f"{memory_gib} GiB"}


POOL = [vm("a", 2), vm("b", 1), vm("c", 3), vm("d", 1)]


def landed(policy: str, pool=POOL, **kw) -> dict[str, str]:
    return dict(virtsim.load_experiment(experiment(policy, pool, **kw)).placement.placed)


def test_first_fit_takes_the_first_host_with_room():
    assert landed("first-fit") == {"a": "h1", "b": "h1", "c": "h2", "d": "h1"}


def test_best_fit_takes_the_host_with_least_room_left():
    # a: all hosts equal → h1; b → h1 (fullest); c does not fit h1 (3 of 4 used) → h2; d → h1 fills it.
    assert landed("best-fit", [vm("a", 2), vm("b", 1), vm("c", 3), vm("d", 1)]) == \
        {"a": "h1", "b": "h1", "c": "h2", "d": "h1"}
    # Memory counts too: h1 keeps less room once the 6 GiB VM is on it.
    assert landed("best-fit", [vm("x", 1, 6), vm("y", 1, 1), vm("z", 1, 4)]) == {"x": "h1", "y": "h1", "z": "h2"}


def test_worst_fit_takes_the_emptiest_host():
    assert landed("worst-fit") == {"a": "h1", "b": "h2", "c": "h3", "d": "h2"}


def test_spread_takes_the_host_with_fewest_items():
    assert landed("spread") == {"a": "h1", "b": "h2", "c": "h3", "d": "h1"}


def test_random_is_seeded_and_deterministic():
    pool = [vm(f"v{n}", 1) for n in range(8)]
    first = landed("random", pool, seed=3)
    assert first == landed("random", pool, seed=3)
    assert len(set(first.values())) > 1
    assert any(landed("random", pool, seed=s) != first for s in range(4, 8))


def test_cpu_overcommit_admits_more_vcpus_than_cores():
    pool = [vm("a", 4), vm("b", 4)]
    assert landed("first-fit", pool, hosts=1)["a"] == "h1"
    spec = virtsim.load_experiment(experiment("first-fit", pool, hosts=1))
    assert [u.name for u in spec.placement.unplaced] == ["b"]
    assert "0 of 4 cores free, needs 4" in spec.placement.unplaced[0].reason
    assert landed("first-fit", pool, hosts=1, cpu_overcommit=2) == {"a": "h1", "b": "h1"}


def test_memory_overcommit_admits_more_memory_and_the_host_admits_it_too():
    pool = [vm("a", 1, 6), vm("b", 1, 6)]
    assert landed("first-fit", pool, hosts=1) == {"a": "h1"}
    # The host's own OS keeps some memory resident, so 2 × 6 GiB needs more than 1.5 × 8 GiB.
    spec = virtsim.load_experiment(experiment("first-fit", pool, hosts=1, memory_overcommit=1.5))
    assert spec.placement.placed == {"a": "h1"}
    spec = virtsim.load_experiment(experiment("first-fit", pool, hosts=1, memory_overcommit=2))
    assert spec.placement.placed == {"a": "h1", "b": "h1"}
    assert spec.hosts[0].memory_overcommit == 2


def test_anti_affinity_keeps_a_group_apart_and_reports_what_cannot_be():
    pool = [vm("w1", 1), vm("w2", 1), vm("w3", 1)]
    spec = virtsim.load_experiment(experiment("first-fit", pool, hosts=2, anti_affinity=[["w1", "w2", "w3"]]))
    assert spec.placement.placed == {"w1": "h1", "w2": "h2"}
    (left,) = spec.placement.unplaced
    assert left.name == "w3" and "holds w1 (anti-affinity)" in left.reason and "holds w2" in left.reason


def test_a_vm_never_gets_more_vcpus_than_its_host_has_cores_whatever_the_overcommit():
    spec = virtsim.load_experiment(experiment("first-fit", [vm("big", 8)], hosts=1, cpu_overcommit=4))
    assert spec.placement.unplaced[0].reason == "h1: has 4 cores, the VM 8 vCPUs"


def test_targets_name_pool_items_wherever_they_land_and_unplaced_targets_are_reported():
    workloads = [{"name": f"to-{n}", "target": n, "type": "closed", "clients": 1, "demand": {"cpu": "1 s"}}
                 for n in ("a", "b", "c")]
    raw = experiment("worst-fit", [vm("a", 4), vm("b", 4), vm("c", 4)], hosts=2, workloads=workloads)
    spec = virtsim.load_experiment(raw)
    assert [w.target for w in spec.workloads] == ["h1/a", "h2/b"]
    assert {(u.name, u.kind) for u in spec.placement.unplaced} == {("c", "vm"), ("to-c", "workload")}
    results = virtsim.run_spec(spec)
    assert set(results.unplaced["name"]) == {"c", "to-c"}
    assert set(results.jobs["target"].astype(str)) == {"h1/a", "h2/b"}


def test_pool_names_must_not_shadow_hosts_and_groups_must_name_pool_items():
    raw = experiment("first-fit", [vm("h1", 1)], anti_affinity=[["nope"]])
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(raw)
    paths = {p.path for p in err.value.problems}
    assert {"placement.vms[0].name", "placement.anti_affinity[0][0]"} <= paths


def test_containers_need_an_engine_beside_a_hypervisor():
    raw = experiment("first-fit", [], hosts=2)
    raw["hosts"][0]["hypervisor"] = "kvm"
    raw["placement"]["containers"] = [{"name": "app", "cpus": 1, "memory": "1 GiB"}]
    spec = virtsim.load_experiment(raw)
    assert spec.placement.placed == {"app": "h2"}
    assert spec.hosts[1].containers[0].name == "app"


# --- Kubernetes ----------------------------------------------------------------------


def test_kube_scores_follow_the_noderesources_formulas():
    room = Room("n", cpu_capacity_cores=4, memory_capacity_bytes=8 * GIB, cpu_used_cores=1, memory_used_bytes=2 * GIB)
    fit = Fit(cpu_cores=1, memory_bytes=2 * GIB)
    # requested: 2000 of 4000 millicores, 4 of 8 GiB.
    assert kube_score(room, fit, "least-allocated") == (2000 * 100 // 4000 + 4 * 100 // 8) // 2 == 50
    fit = Fit(cpu_cores=0.5, memory_bytes=1 * GIB)  # 1500 m of 4000 m, 3 of 8 GiB
    assert kube_score(room, fit, "least-allocated") == ((2500 * 100) // 4000 + (5 * 100) // 8) // 2 == 62
    assert kube_score(room, fit, "most-allocated") == ((1500 * 100) // 4000 + (3 * 100) // 8) // 2 == 37


def test_kubernetes_least_allocated_spreads_and_most_allocated_packs():
    raw = experiment("kubernetes", [], hosts=2)
    raw["placement"]["containers"] = [{"name": f"p{n}", "requests": {"cpu": 1, "memory": "1 GiB"}} for n in range(3)]
    least = virtsim.load_experiment(raw).placement.placed
    raw["placement"]["scoring"] = "most-allocated"
    most = virtsim.load_experiment(raw).placement.placed
    assert least == {"p0": "h1", "p1": "h2", "p2": "h1"}
    assert most == {"p0": "h1", "p1": "h1", "p2": "h1"}


def test_kubernetes_requests_default_to_limits_and_filter_on_allocatable():
    raw = experiment("kubernetes", [], hosts=1)
    raw["placement"]["containers"] = [{"name": "a", "cpus": 3}, {"name": "b", "requests": {"cpu": 2}, "cpus": 4}]
    spec = virtsim.load_experiment(raw)
    assert spec.placement.placed == {"a": "h1"}
    assert "1 of 4 cores free, needs 2" in spec.placement.unplaced[0].reason


# --- properties -----------------------------------------------------------------------

POLICIES = ("first-fit", "best-fit", "worst-fit", "spread", "random", "kubernetes")


@settings(max_examples=60, deadline=None)
@given(policy=st.sampled_from(POLICIES), ratio=st.sampled_from([1.0, 1.5, 2.0]),
       hosts=st.lists(st.tuples(st.integers(1, 8), st.integers(1, 16)), min_size=1, max_size=4),
       items=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 16)), min_size=1, max_size=12),
       groups=st.lists(st.lists(st.integers(0, 11), min_size=2, max_size=4, unique=True), max_size=2),
       seed=st.integers(0, 10))
def test_no_policy_exceeds_capacity_or_breaks_anti_affinity_and_nothing_is_lost(
        policy, ratio, hosts, items, groups, seed):
    rooms = [Room(f"h{n}", cores * ratio, mem * GIB * ratio) for n, (cores, mem) in enumerate(hosts)]
    pool = [Item(f"i{k}", "vm", {r.name: Fit(cpu, mem * GIB) for r in rooms}) for k, (cpu, mem) in enumerate(items)]
    anti = [[f"i{k}" for k in group if k < len(items)] for group in groups]
    placed, unplaced = place(pool, rooms, policy, anti_affinity=anti, rng=np.random.default_rng(seed))
    assert set(placed) | {item.name for item, _ in unplaced} == {item.name for item in pool}
    assert not set(placed) & {item.name for item, _ in unplaced}
    asked = {item.name: (cpu, mem) for item, (cpu, mem) in zip(pool, items)}
    for n, (cores, mem) in enumerate(hosts):
        mine = [name for name, host in placed.items() if host == f"h{n}"]
        assert sum(asked[name][0] for name in mine) <= cores * ratio + 1e-9
        assert sum(asked[name][1] for name in mine) <= mem * ratio + 1e-9
    for group in anti:
        landed_on = [placed[name] for name in group if name in placed]
        assert len(landed_on) == len(set(landed_on))
    for item, why in unplaced:
        assert why  # every item left out says why


# --- the loader and the CLI --------------------------------------------------------------


def test_problems_of_a_placed_item_are_reported_in_the_placement_section():
    raw = experiment("first-fit", [vm("ok", 1), {**vm("bad", 2), "reservation": 3}])
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(raw)
    assert [p.path for p in err.value.problems] == ["placement.vms[1].reservation"]


def test_failure_domains_name_pool_items_too():
    raw = experiment("worst-fit", [vm("a", 1), vm("b", 1), vm("c", 8)], hosts=2)
    for host in raw["hosts"]:
        host["hypervisor"] = "kvm"
    raw["failures"] = [{"domain": "b", "at": ["5 s"]}, {"domain": "c", "at": ["5 s"]}]
    spec = virtsim.load_experiment(raw)
    assert [f.domain for f in spec.failures] == ["h2/b"]
    assert spec.placement.unplaced[-1] == UnplacedItem(name="failures[1]", kind="failure",
                                                        reason="its domain 'c' was not placed")


def test_validate_and_run_print_the_placement_and_what_was_not_placed(tmp_path):
    from click.testing import CliRunner

    from virtsim.cli import main

    raw = experiment("first-fit", [vm("a", 4), vm("b", 4)], hosts=1, workloads=[
        {"name": "w", "target": "a", "type": "closed", "clients": 1, "demand": {"cpu": "1 s"}}])
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump(raw))
    checked = CliRunner().invoke(main, ["validate", str(path)])
    assert checked.exit_code == 0
    assert "placement (first-fit): a → h1" in checked.output
    assert "vm b: h1: 0 of 4 cores free, needs 4" in checked.output
    ran = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out")])
    assert ran.exit_code == 0 and "not placed (1):" in ran.output
    table = pd.read_csv(tmp_path / "out" / "unplaced.csv")
    assert table.to_dict("records") == [{"name": "b", "kind": "vm", "reason": "h1: 0 of 4 cores free, needs 4"}]


@settings(max_examples=25, deadline=None)
@given(policy=st.sampled_from(POLICIES), cpu_ratio=st.sampled_from([1.0, 2.0]), mem_ratio=st.sampled_from([1.0, 1.5]),
       sizes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 6)), min_size=1, max_size=10),
       seed=st.integers(0, 5))
def test_loaded_placements_respect_the_ratios_and_account_for_every_item(policy, cpu_ratio, mem_ratio, sizes, seed):
    pool = [vm(f"v{k}", cpus, gib) for k, (cpus, gib) in enumerate(sizes)]
    anti = [[f"v{k}" for k in range(0, len(sizes), 2)][:3]]
    spec = virtsim.load_experiment(experiment(policy, pool, hosts=2, seed=seed, cpu_overcommit=cpu_ratio,
                                              memory_overcommit=mem_ratio, anti_affinity=anti))
    placed, unplaced = spec.placement.placed, [u.name for u in spec.placement.unplaced]
    assert sorted([*placed, *unplaced]) == sorted(v["name"] for v in pool)
    for host in spec.hosts:  # the loader's own admission check passed; the CPU ratio holds too
        assert sum(v.vcpus for v in host.vms) <= host.hardware.cores * cpu_ratio
        assert {v.name for v in host.vms} == {name for name, h in placed.items() if h == host.name}
    hosts_of_group = [placed[name] for name in anti[0] if name in placed]
    assert len(hosts_of_group) == len(set(hosts_of_group))


def test_a_policy_is_one_registered_function(monkeypatch):
    """A new policy is a function in the registry: ``place`` finds it by name, nothing else changes."""
    from virtsim.placement import policies

    monkeypatch.setitem(policies.POLICIES, "last-fit", lambda item, rooms, how: rooms[-1])
    rooms = [Room(f"h{n}", 4, 8 * GIB) for n in (1, 2, 3)]
    items = [Item(name, "vm", {r.name: Fit(1, GIB) for r in rooms}) for name in "ab"]
    placed, unplaced = place(items, rooms, "last-fit")
    assert placed == {"a": "h3", "b": "h3"} and not unplaced
    assert set(policies.POLICIES) >= {"first-fit", "best-fit", "worst-fit", "spread", "random", "kubernetes"}


def test_an_unknown_policy_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown placement policy 'nearest'; known: first-fit, best-fit"):
        place([], [Room("h1", 4, 8 * GIB)], "nearest")
