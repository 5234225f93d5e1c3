"""Time series (``sample_interval``): CPU utilization and steal per interval, from integrals.

The series is opt-in and read-only: a run with it has the same jobs and
consumer totals as one without, and its intervals add up to those totals.
"""

from __future__ import annotations

import pandas as pd
import pytest

import virtsim
from virtsim.config import dump_resolved

BASE = {
    "name": "ts",
    "seed": 3,
    "duration": "400 s",
    "warmup": "100 s",
    "cold_start": False,
    "hosts": [{
        "name": "h1",
        "hardware": {"cores": 4, "memory": "16 GiB"},
        "vms": [{"name": "a", "vcpus": 4, "memory": "4 GiB", "shares": 2000},
                {"name": "b", "vcpus": 2, "memory": "4 GiB", "containers": [{"name": "web", "cpus": 1.5}]}],
    }],
    "workloads": [
        {"name": "web", "target": "h1/b/web", "type": "open", "arrivals": {"type": "poisson", "rate": "1 /s"},
         "demand": {"cpu": {"type": "exponential", "mean": "1 s"}}},
        {"name": "batch", "target": "h1/a", "type": "closed", "clients": 6, "demand": {"cpu": "10 s"}},
    ],
}


def with_interval(interval: str | None) -> dict:
    raw = dict(BASE)
    if interval is not None:
        raw["sample_interval"] = interval
    return raw


@pytest.fixture(scope="module")
def runs():
    return virtsim.run_experiment(with_interval(None)), virtsim.run_experiment(with_interval("50 s"))


def test_without_the_key_there_is_no_series_and_the_manifest_is_unchanged(runs):
    plain, _ = runs
    assert plain.timeseries is None
    assert "timeseries" not in plain.tables()
    assert "sample_interval_s" not in plain.manifest["config"]


def test_sampling_changes_no_result(runs):
    plain, sampled = runs
    pd.testing.assert_frame_equal(plain.jobs, sampled.jobs)
    pd.testing.assert_frame_equal(plain.consumers, sampled.consumers)
    pd.testing.assert_frame_equal(plain.summary, sampled.summary)


def test_one_row_per_interval_and_consumer(runs):
    _, sampled = runs
    ts = sampled.timeseries
    consumers = list(sampled.consumers["consumer"])
    assert len(ts) == 8 * len(consumers)  # 400 s in intervals of 50 s
    assert list(ts["consumer"][: len(consumers)]) == consumers
    assert sorted(set(ts["start_s"])) == [50.0 * k for k in range(8)]
    assert (ts["time_s"] - ts["start_s"] == 50.0).all()
    assert sampled.manifest["config"]["sample_interval_s"] == 50.0


def test_intervals_add_up_to_the_consumer_totals(runs):
    _, sampled = runs
    ts = sampled.timeseries
    after_warmup = ts[ts["start_s"] >= 100.0].groupby("consumer", sort=False)[["cpu_time_s", "steal_time_s"]].sum()
    totals = sampled.consumers.set_index("consumer")
    for column in ("cpu_time_s", "steal_time_s"):
        assert after_warmup[column].to_numpy() == pytest.approx(totals.loc[after_warmup.index, column].to_numpy())


def test_utilization_and_steal_are_fractions_of_capacity(runs):
    _, sampled = runs
    ts = sampled.timeseries
    cores = sampled.consumers.set_index("consumer")["size_cores"]
    capacity = ts["consumer"].map(cores) * (ts["time_s"] - ts["start_s"])
    assert ts["cpu_utilization"].to_numpy() == pytest.approx((ts["cpu_time_s"] / capacity).to_numpy())
    assert ts["steal_fraction"].to_numpy() == pytest.approx((ts["steal_time_s"] / capacity).to_numpy())
    host = ts[ts["consumer"] == "h1"]
    assert (host["cpu_utilization"] <= 1 + 1e-9).all()
    # VM a's six batch clients want more than its four vCPUs get beside b: it is stolen from.
    assert ts.loc[ts["consumer"] == "h1/a", "steal_time_s"].sum() > 0


def test_the_last_interval_ends_with_the_run():
    raw = with_interval("150 s")
    results = virtsim.run_experiment(raw)
    ends = sorted(set(results.timeseries["time_s"]))
    assert ends == [150.0, 300.0, 400.0]  # the last one is 100 s long


def test_stop_after_jobs_ends_the_series_with_the_run():
    raw = with_interval("20 s") | {"stop_after_jobs": 30}
    results = virtsim.run_experiment(raw)
    assert results.timeseries["time_s"].max() == pytest.approx(results.summary["end_s"].iloc[0])


def test_write_results_writes_the_series_only_when_recorded(runs, tmp_path):
    plain, sampled = runs
    virtsim.write_results(plain, tmp_path / "plain")
    virtsim.write_results(sampled, tmp_path / "sampled")
    assert not (tmp_path / "plain" / "timeseries.csv").exists()
    written = pd.read_csv(tmp_path / "sampled" / "timeseries.csv")
    assert list(written.columns) == list(sampled.timeseries.columns)
    assert len(written) == len(sampled.timeseries)


def test_the_spec_round_trips_through_its_dump(runs):
    spec = virtsim.load_experiment(with_interval("50 s"))
    assert virtsim.ExperimentSpec.model_validate(dump_resolved(spec)).sample_interval_s == 50.0


@pytest.mark.parametrize("value, message", [
    ("0 s", "sample_interval: must be a time > 0"),
    ("-5 s", "sample_interval: must be a time > 0"),
    ("10 GiB", "sample_interval: expected a time"),
    ("500 s", "sample_interval: must be at most duration (400 s), got 500 s"),
])
def test_a_bad_interval_is_reported_with_its_path(value, message):
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_experiment(with_interval(value))
    assert message in str(err.value)
