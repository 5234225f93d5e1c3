"""Custom SimPy generator workloads through the workload context.

``sim.context(target, workload=...)`` binds a context to a host, VM or
container; ``ctx.cpu`` asks for CPU work that is shared fairly with everything
else there, ``ctx.sleep`` waits without using the CPU, and ``ctx.spawn`` runs a
request as a job recorded in the job table. The cases are small enough to
compute by hand under processor sharing.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import virtsim

EXACT = dict(rel=1e-12, abs=1e-12)


def experiment(*, cores=1, core_speed=1.0, vms=(), containers=(), workloads=None, duration="100 s") -> dict:
    """One host 'h' to play on, and a quiet host 'o' for the built-in workload the schema requires."""
    host = {"name": "h", "hardware": {"cores": cores, "core_speed": core_speed, "memory": "16 GiB"}}
    if vms:
        host["vms"] = list(vms)
    if containers:
        host["containers"] = list(containers)
    idle = {"name": "o", "type": "open", "target": "o", "arrivals": {"type": "poisson", "rate": "0.001 /s"},
            "demand": {"cpu": {"type": "constant", "value": "1 s"}}}
    return {
        "name": "context", "seed": 3, "duration": duration,
        "hosts": [host, {"name": "o", "hardware": {"cores": 1, "core_speed": 1.0, "memory": "1 GiB"}}],
        "workloads": workloads if workloads is not None else [idle],
    }


def simulation(**kwargs) -> virtsim.Simulation:
    return virtsim.Simulation(virtsim.load_experiment(experiment(**kwargs)))


def cpu_job(ctx, seconds, threads=1):
    yield ctx.cpu(seconds, threads=threads)


def spawn_all(ctx, requests):
    """Spawn every (request, *args) at time 0; finishes immediately."""
    for request, *args in requests:
        ctx.spawn(request, *args)
    yield ctx.sleep(0)


def jobs_of(results, workload: str) -> pd.DataFrame:
    jobs = results.jobs
    return jobs[jobs["workload"] == workload].reset_index(drop=True)


def run_jobs(sim, target, requests, workload="custom") -> pd.DataFrame:
    ctx = sim.context(target, workload=workload)
    sim.process(spawn_all(ctx, requests))
    return jobs_of(virtsim.collect(sim.run()), workload)


def test_two_jobs_share_one_core():
    # Both at half a core until the 1 s job is done at 2 s; the other's last second runs alone.
    jobs = run_jobs(simulation(), "h", [(cpu_job, 1.0), (cpu_job, 2.0)])
    assert list(jobs["arrival_s"]) == [0.0, 0.0]
    assert jobs["end_s"].tolist() == pytest.approx([2.0, 3.0], **EXACT)
    assert jobs["response_time_s"].tolist() == pytest.approx([2.0, 3.0], **EXACT)
    assert jobs["cpu_demand_s"].tolist() == [1.0, 2.0]
    assert set(jobs["target"].astype(str)) == {"h"}


def test_threads_let_a_job_use_several_cores():
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 2), (cpu_job, 2.0, 1)], workload="t")
    # Alone, two threads would take 1 s; next to a one-thread job each gets one core: 2 s each.
    assert jobs["end_s"].tolist() == pytest.approx([2.0, 2.0], **EXACT)

    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 2)], workload="t")
    assert jobs["end_s"].tolist() == pytest.approx([1.0], **EXACT)
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 1)], workload="t")
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 4)], workload="t")  # only 2 cores
    assert jobs["end_s"].tolist() == pytest.approx([1.0], **EXACT)


def sleepy(ctx, before, work, after):
    yield ctx.sleep(before)
    yield ctx.cpu(work)
    yield ctx.sleep(after)


def test_sleep_uses_no_cpu():
    # Job A sleeps 1 s, computes 1 s, sleeps 1 s; job B computes 2 s from the start.
    # B runs alone for 1 s, shares with A for 2 s (A done at 3 s, B's second second done at 3 s).
    sim = simulation()
    ctx = sim.context("h", workload="s")
    sim.process(spawn_all(ctx, [(sleepy, 1.0, 1.0, 1.0), (cpu_job, 2.0)]))
    results = virtsim.collect(sim.run())
    jobs = jobs_of(results, "s")
    assert jobs["end_s"].tolist() == pytest.approx([4.0, 3.0], **EXACT)
    assert jobs["cpu_demand_s"].tolist() == [1.0, 2.0]
    host = results.consumers.set_index("consumer").loc["h"]
    assert host["cpu_time_s"] == pytest.approx(3.0, **EXACT)  # only the work, not the sleeping


def several_steps(ctx):
    yield ctx.cpu(0.25)
    yield ctx.sleep(0.5)
    yield ctx.cpu(0.5, threads=2)
    yield ctx.cpu(0.0)
    yield ctx.cpu(0.125)


def test_cpu_demand_is_the_sum_of_the_cpu_calls():
    jobs = run_jobs(simulation(cores=2), "h", [(several_steps,)])
    assert jobs["cpu_demand_s"].tolist() == [0.875]
    assert jobs["end_s"].tolist() == pytest.approx([0.25 + 0.5 + 0.25 + 0.125], **EXACT)


def test_a_job_in_flight_at_the_end_is_recorded_unfinished():
    jobs = run_jobs(simulation(duration="10 s"), "h", [(cpu_job, 4.0), (cpu_job, 40.0)])
    assert jobs["end_s"].iloc[0] == pytest.approx(8.0, **EXACT)
    assert pd.isna(jobs["end_s"].iloc[1])
    assert jobs["cpu_demand_s"].tolist() == [4.0, 40.0]


def test_core_speed_and_container_limits_apply_to_the_context():
    # Speed-2 cores do 1 s of reference work in 0.5 s.
    jobs = run_jobs(simulation(cores=1, core_speed=2.0), "h", [(cpu_job, 1.0)])
    assert jobs["end_s"].tolist() == pytest.approx([0.5], **EXACT)

    # A container limited to half a core on a 4-core host: 1 s of work takes 2 s, even with 4 threads.
    sim = simulation(cores=4, containers=[{"name": "c", "cpus": 0.5, "memory": "1 GiB"}])
    jobs = run_jobs(sim, "h/c", [(cpu_job, 1.0, 4)])
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    assert set(jobs["target"].astype(str)) == {"h/c"}

    # A VM capped at 1 core on a 4-core host, with 4 vCPUs: 2 s of 4-thread work takes 2 s.
    sim = simulation(cores=4, vms=[{"name": "v", "vcpus": 4, "cap": 1, "memory": "1 GiB"}])
    jobs = run_jobs(sim, "h/v", [(cpu_job, 2.0, 4)])
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)


def test_the_context_shares_its_consumer_with_a_built_in_workload():
    # A closed loop (one client, 10 s jobs, no think time) on the 1-core host, and a 1 s custom job at 0:
    # both at half a core until the custom job ends at 2 s; the first batch job, 1 s done by then, ends at 11 s.
    closed = {"name": "batch", "target": "h", "type": "closed", "clients": 1, "think_time": "0 s",
              "demand": {"cpu": {"type": "constant", "value": "10 s"}}}
    sim = simulation(workloads=[closed], duration="30 s")
    ctx = sim.context("h", workload="custom")
    sim.process(spawn_all(ctx, [(cpu_job, 1.0)]))
    results = virtsim.collect(sim.run())
    assert jobs_of(results, "custom")["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    batch = jobs_of(results, "batch")
    assert batch["end_s"].tolist()[:2] == pytest.approx([11.0, 21.0], **EXACT)
    assert len(batch) == 3 and pd.isna(batch["end_s"].iloc[2])  # the third is still running at 30 s
    assert list(results.workloads["workload"]) == ["batch", "custom"]
    assert results.workloads.set_index("workload").loc["custom", "jobs_completed"] == 1


def test_a_context_in_one_vm_competes_with_a_built_in_workload_in_another():
    # Two 1-vCPU VMs on a 1-core host with shares 3:1. VM 'b' runs a busy closed loop; the custom
    # job of 3 s in VM 'a' gets 3/4 of the core, so it ends at 4 s.
    vms = [{"name": "a", "vcpus": 1, "memory": "1 GiB", "shares": 3000},
           {"name": "b", "vcpus": 1, "memory": "1 GiB", "shares": 1000}]
    closed = {"name": "batch", "target": "h/b", "type": "closed", "clients": 1, "think_time": "0 s",
              "demand": {"cpu": {"type": "constant", "value": "100 s"}}}
    sim = simulation(vms=vms, workloads=[closed], duration="20 s")
    ctx = sim.context("h/a", workload="custom")
    sim.process(spawn_all(ctx, [(cpu_job, 3.0)]))
    results = virtsim.collect(sim.run())
    assert jobs_of(results, "custom")["end_s"].tolist() == pytest.approx([4.0], **EXACT)
    table = results.consumers.set_index("consumer")
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(3.0, **EXACT)
    assert table.loc["h/b", "cpu_time_s"] == pytest.approx(17.0, **EXACT)  # 1 s of the first 4 s, then all
    assert table.loc["h/b", "steal_time_s"] == pytest.approx(3.0, **EXACT)


def test_a_generator_that_spawns_over_time():
    # One request every 2 s, each 1 s of CPU on an idle core: every response time is exactly 1 s.
    def arrivals(ctx):
        while True:
            ctx.spawn(cpu_job, 1.0)
            yield ctx.sleep(2.0)

    sim = simulation(duration="20 s")
    ctx = sim.context("h", workload="periodic")
    sim.process(arrivals(ctx))
    results = virtsim.collect(sim.run())
    jobs = jobs_of(results, "periodic")
    assert jobs["arrival_s"].tolist() == [2.0 * n for n in range(11)]  # 0, 2, ..., 20
    assert jobs["response_time_s"].dropna().tolist() == pytest.approx([1.0] * 10, **EXACT)
    assert results.workloads.set_index("workload").loc["periodic", "jobs_completed"] == 10


def test_workload_name_defaults_to_the_target_and_contexts_are_seeded():
    def draws(seed):
        sim = virtsim.Simulation(virtsim.load_experiment(experiment()), seed=seed)
        ctx = sim.context("h")
        return [ctx.rng.random() for _ in range(3)], sim

    first, sim = draws(1)
    assert draws(1)[0] == first and draws(2)[0] != first
    ctx = sim.context("h")
    sim.process(spawn_all(ctx, [(cpu_job, 1.0)]))
    results = virtsim.collect(sim.run())
    assert "h" in set(results.workloads["workload"])
    assert jobs_of(results, "h")["end_s"].tolist() == pytest.approx([1.0], **EXACT)


def test_bad_thread_counts_are_refused():
    sim = simulation()
    ctx = sim.context("h")
    with pytest.raises(ValueError, match="threads"):
        ctx.cpu(1.0, threads=0)


def test_an_unknown_target_is_refused():
    sim = simulation()
    with pytest.raises((KeyError, ValueError), match="h/nope"):
        sim.context("h/nope")


# --- through the stack: the same plan as a built-in workload ---------------------------------------

BREAKDOWN_COLUMNS = ["native_s", "virtualization_s", "io_latency_s", "startup_s", "failure_s", "wait_s",
                     "slowdown"]

STACKS = {
    "kvm": {"host": {"hypervisor": "kvm"}, "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}], "target": "h/a"},
    "virtualbox": {"host": {"hypervisor": "virtualbox", "host_os": "linux-server"},
                   "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}], "target": "h/a"},
    "docker": {"host": {"engine": "docker", "host_os": "linux-server"},
               "containers": [{"name": "c", "cpus": 2, "memory": "1 GiB", "network": "nat", "storage": "overlay"}],
               "target": "h/c"},
}

# Constant demand: CPU, system calls (exits on a hypervisor, host CPU), random reads and a network round trip.
DEMAND = {"cpu": "20 ms", "syscalls": 200, "ctx_switches": 10, "disk": {"ops": 3, "bytes": "16 KiB"},
          "net": {"transactions": 2, "bytes": "64 KiB"}}


def stack_experiment(stack: str, workloads: list | None = None) -> dict:
    s = STACKS[stack]
    raw = experiment(cores=2, vms=s.get("vms", ()), containers=s.get("containers", ()), workloads=workloads,
                     duration="5 s")
    raw["hosts"][0].update(s["host"])
    raw["cold_start"] = False  # about requests, not start-up
    return raw


def checkout(ctx):
    yield ctx.request(cpu=DEMAND["cpu"], syscalls=DEMAND["syscalls"], ctx_switches=DEMAND["ctx_switches"],
                      disk=DEMAND["disk"], net=DEMAND["net"])


def waves(ctx, jobs, at_s):
    """``jobs`` requests at once at each time of ``at_s``: what a batch workload submits."""
    for k, at in enumerate(at_s):
        yield ctx.sleep(at - (at_s[k - 1] if k else 0.0))
        for _ in range(jobs):
            ctx.spawn(checkout)


@pytest.mark.parametrize("stack", STACKS)
def test_a_custom_workload_runs_like_the_built_in_one(stack):
    """Three concurrent requests at 0 s and three at 0.5 s, built in (a batch) and written in Python:
    the same job times and breakdowns, and the same CPU burnt by the layers on the host."""
    target = STACKS[stack]["target"]
    batch = {"name": "w", "target": target, "type": "batch", "jobs": 3, "at": ["0 s", "0.5 s"], "demand": DEMAND}
    raw = stack_experiment(stack)
    built_in = virtsim.run_experiment(stack_experiment(stack, [*raw["workloads"], batch]))

    sim = virtsim.Simulation(virtsim.load_experiment(raw))
    sim.process(waves(sim.context(target, workload="w"), 3, [0.0, 0.5]))
    custom = virtsim.collect(sim.run())

    expected, found = jobs_of(built_in, "w"), jobs_of(custom, "w")
    assert len(found) == len(expected) == 6 and found["end_s"].notna().all()
    assert found["arrival_s"].tolist() == expected["arrival_s"].tolist()
    assert found["cpu_demand_s"].tolist() == pytest.approx(expected["cpu_demand_s"].tolist(), rel=1e-12)
    assert found["end_s"].tolist() == pytest.approx(expected["end_s"].tolist(), rel=1e-9)
    assert found[BREAKDOWN_COLUMNS].notna().all().all()
    for column in BREAKDOWN_COLUMNS:
        assert found[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-9, abs=1e-12), column
    # The layers add something, and contention among the three shows as waiting.
    assert (found["virtualization_s"] > 0).all() and (found["io_latency_s"] > 0).all()
    assert found["wait_s"].max() > 1e-6
    assert str(found["stack"].iloc[0]) == str(expected["stack"].iloc[0]) != "native"
    # Where the per-operation costs are paid: the layers' own consumers on the host (exits, the VMM's
    # threads), or the requester itself where the work runs in its context (Docker's bridge/NAT).
    layers = [c for c in sim.platform.layer_consumers if c.startswith("h/")]
    assert layers
    cpu = {name: r.consumers.set_index("consumer")["cpu_time_s"] for name, r in (("b", built_in), ("c", custom))}
    assert cpu["c"][layers].tolist() == pytest.approx(cpu["b"][layers].tolist(), rel=1e-9, abs=1e-12)
    if stack == "docker":  # the NAT's work is the container's: more than the same container on the host network
        assert cpu["c"][layers].sum() == 0.0
        host_net = copy.deepcopy(stack_experiment(stack, [*raw["workloads"], batch]))
        host_net["hosts"][0]["containers"][0]["network"] = "host"
        on_host = virtsim.run_experiment(host_net).consumers.set_index("consumer")["cpu_time_s"][target]
        assert cpu["c"][target] > on_host
    else:
        assert cpu["c"][layers].sum() > 0
    assert cpu["c"][target] == pytest.approx(cpu["b"][target], rel=1e-9)


def test_cpu_in_a_kvm_guest_pays_the_stacks_factor():
    """The case of the issue: ``ctx.cpu(1.0)`` in a KVM guest took exactly 1 s where the built-in job
    takes 1 s × the path's CPU factor (KVM's and the guest OS's, 1.023 with the catalog's profiles)."""
    raw = stack_experiment("kvm")
    sim = virtsim.Simulation(virtsim.load_experiment(raw))
    factor = sim.platform.paths["h/a"].cpu_factor
    assert factor > 1.0
    jobs = run_jobs(sim, "h/a", [(cpu_job, 1.0)])
    batch = {"name": "w", "target": "h/a", "type": "batch", "jobs": 1, "demand": {"cpu": "1 s"}}
    built_in = jobs_of(virtsim.run_experiment(stack_experiment("kvm", [*raw["workloads"], batch])), "w")
    assert jobs["end_s"].tolist() == pytest.approx([factor], **EXACT)
    assert jobs["end_s"].tolist() == pytest.approx(built_in["end_s"].tolist(), **EXACT)
    row = jobs.iloc[0]
    assert (row["native_s"], row["virtualization_s"], row["wait_s"]) == pytest.approx((1.0, factor - 1.0, 0.0),
                                                                                     abs=1e-12)


def stepwise(ctx):
    yield ctx.cpu(DEMAND["cpu"])
    yield ctx.request(syscalls=DEMAND["syscalls"], ctx_switches=DEMAND["ctx_switches"])
    yield ctx.disk(3, bytes=16384)
    yield ctx.net(2, bytes="64 KiB")


@pytest.mark.parametrize("stack", ["kvm", "docker"])
def test_cpu_disk_and_net_one_after_another_cost_one_request_alone(stack):
    """Alone, a request's phases run in sequence: split into four calls, a job takes as long and
    breaks down the same way."""
    target = STACKS[stack]["target"]
    ends = {}
    for name, request in (("one", checkout), ("steps", stepwise)):
        jobs = run_jobs(virtsim.Simulation(virtsim.load_experiment(stack_experiment(stack))), target,
                        [(request,)], workload=name)
        ends[name] = jobs.iloc[0]
    one, steps = ends["one"], ends["steps"]
    assert steps["end_s"] == pytest.approx(one["end_s"], rel=1e-12)
    for column in BREAKDOWN_COLUMNS:
        assert steps[column] == pytest.approx(one[column], rel=1e-12, abs=1e-12), column
    assert one["wait_s"] == pytest.approx(0.0, abs=1e-12)
    assert one["io_latency_s"] > 0 and one["virtualization_s"] > 0


def test_sleeps_count_as_native_time():
    """1 s of CPU, 0.5 s asleep, 1 s of CPU on an idle native host: 2.5 s, all of it native; slowdown 1."""
    def job(ctx):
        yield ctx.cpu(1.0)
        yield ctx.sleep(0.5)
        yield ctx.cpu(1.0)

    first = run_jobs(simulation(), "h", [(job,)]).iloc[0]
    assert first["end_s"] == pytest.approx(2.5, **EXACT)
    assert (first["native_s"], first["virtualization_s"], first["io_latency_s"]) == (2.5, 0.0, 0.0)
    assert first["wait_s"] == pytest.approx(0.0, abs=1e-12) and first["slowdown"] == pytest.approx(1.0)


def test_units_as_in_experiment_files():
    """Times and sizes may be texts with units; a number of bytes is bytes."""
    sims = [virtsim.Simulation(virtsim.load_experiment(stack_experiment("kvm"))) for _ in range(2)]

    def in_units(ctx):
        yield ctx.request(cpu="20 ms", disk={"ops": 2, "bytes": "8 KiB"}, net={"bytes": "1 KB"})
        yield ctx.sleep("5 ms")

    def in_numbers(ctx):
        yield ctx.request(cpu=0.02, disk={"ops": 2, "bytes": 8192}, net={"bytes": 1000})
        yield ctx.sleep(0.005)

    ends = [run_jobs(sim, "h/a", [(request,)])["end_s"].iloc[0] for sim, request in zip(sims, (in_units, in_numbers))]
    assert ends[0] == ends[1] > 0.025


@pytest.mark.parametrize(("call", "message"), [
    (lambda ctx: ctx.cpu("1 GiB"), r"ctx\.cpu: cpu: expected a time"),
    (lambda ctx: ctx.cpu(-1.0), r"ctx\.cpu: cpu must be >= 0"),
    (lambda ctx: ctx.request(cpu=0.1, syscalls=-3), r"ctx\.request: syscalls must be a finite number >= 0"),
    (lambda ctx: ctx.request(mem_fraction=1.5), r"mem_fraction must be between 0 and 1"),
    (lambda ctx: ctx.request(disk={"opz": 1}), r"ctx\.request: disk: unknown key\(s\) 'opz'; valid: ops, bytes"),
    (lambda ctx: ctx.request(disk=3), r"ctx\.request: disk must be a mapping"),
    (lambda ctx: ctx.disk(1, kind="append"), r"ctx\.disk: disk\.kind must be one of 'read', 'write'"),
    (lambda ctx: ctx.disk(1, bytes="4 s"), r"ctx\.disk: disk\.bytes: expected a size"),
    (lambda ctx: ctx.net(direction="up"), r"ctx\.net: net\.direction must be one of 'send', 'receive'"),
    (lambda ctx: ctx.request(threads=1.5), r"threads must be an integer >= 1"),
    (lambda ctx: ctx.sleep("soon"), r"ctx\.sleep: seconds: expected a time"),
])
def test_bad_demands_are_refused_with_what_would_be_valid(call, message):
    ctx = simulation().context("h")
    with pytest.raises(ValueError, match=message):
        call(ctx)
