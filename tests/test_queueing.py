"""The M/M/c estimates the capacity search sets beside its simulated answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.analysis.queueing import (
    erlang_c,
    mg1_fcfs_mean_response_s,
    mg1_ps_mean_response_s,
    mmc_mean_response_s,
    mmc_response_quantile_s,
    mmc_smallest_servers,
)


def _erlang_c_textbook(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 60), rho=st.floats(0.01, 0.99))
def test_erlang_c_matches_the_textbook_formula(c, rho):
    assert erlang_c(c, c * rho) == pytest.approx(_erlang_c_textbook(c, c * rho), rel=1e-9)


def test_erlang_c_stays_finite_for_thousands_of_servers():
    assert 0 < erlang_c(5000, 4900.0) < 1


def test_mm1_quantile_is_the_exponential_one():
    lam, mu = 0.7, 1.0  # M/M/1: T ~ Exp(μ − λ)
    assert mmc_response_quantile_s(lam, 1 / mu, 1, 0.99) == pytest.approx(-math.log(0.01) / (mu - lam), rel=1e-9)


def test_mmc_quantile_against_a_monte_carlo_fcfs_queue():
    rng = np.random.default_rng(3)
    lam, s, c, n = 3.0, 1.0, 4, 200_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(s, n)
    free = np.zeros(c)
    response = np.empty(n)
    for k in range(n):  # FCFS: each job takes the server that frees first
        j = int(np.argmin(free))
        start = max(arrivals[k], free[j])
        free[j] = start + service[k]
        response[k] = free[j] - arrivals[k]
    response = response[n // 10:]
    assert np.mean(response) == pytest.approx(mmc_mean_response_s(lam, s, c), rel=0.03)
    assert np.quantile(response, 0.99) == pytest.approx(mmc_response_quantile_s(lam, s, c, 0.99), rel=0.05)


def test_the_smallest_server_count_is_the_first_that_meets_the_target():
    lam, s, target = 30.0, 0.1, 0.5
    c = mmc_smallest_servers(lam, s, below_s=target)
    assert mmc_response_quantile_s(lam, s, c) < target <= mmc_response_quantile_s(lam, s, c - 1)
    with pytest.raises(ValueError, match="a job alone already takes"):
        mmc_smallest_servers(lam, s, below_s=0.4)  # -ln(0.01) × 0.1 s = 0.46 s


@settings(max_examples=40, deadline=None)
@given(rho=st.floats(0.01, 0.95), mean=st.floats(0.001, 10.0))
def test_pollaczek_khinchine_is_mm1_for_exponential_sizes_and_half_the_wait_for_constant(rho, mean):
    lam = rho / mean
    mm1 = mean / (1.0 - rho)
    assert mg1_fcfs_mean_response_s(lam, mean, 1.0) == pytest.approx(mm1, rel=1e-9)
    assert mg1_ps_mean_response_s(lam, mean) == pytest.approx(mm1, rel=1e-9)
    # M/D/1 waits half as long as M/M/1: W = ρ·E[S] / (2(1 − ρ)).
    assert mg1_fcfs_mean_response_s(lam, mean, 0.0) - mean == pytest.approx((mm1 - mean) / 2, rel=1e-9)


def test_m_g_1_needs_a_stable_queue():
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        mg1_fcfs_mean_response_s(2.0, 0.5, 1.0)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        mg1_ps_mean_response_s(1.5, 1.0)
