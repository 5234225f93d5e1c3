"""Queueing-theory estimates to set beside simulated answers: M/M/c (Erlang C), M/G/1 FCFS and PS.

The textbook answer to "how many servers for this load" assumes one FCFS queue
in front of ``c`` identical exponential servers. The simulator's answer differs
where its model does: separate hosts behind a balancer, processor sharing on
each host's cores, virtualization overhead, start-up. Both are shown so a
reader sees how far the closed form carries.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

__all__ = ["erlang_c", "mg1_fcfs_mean_response_s", "mg1_ps_mean_response_s", "mmc_mean_response_s",
           "mmc_response_quantile_s", "mmc_smallest_servers"]


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a = λ/μ < c`` (Erlang C).

    Computed through the Erlang B recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))``,
    stable for thousands of servers, then ``C = c·B / (c − a·(1 − B))``.
    """
    if not 0 < offered < c:
        raise ValueError(f"the offered load must be in (0, {c}) for {c} servers, got {offered:g}")
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    return c * b / (c - offered * (1.0 - b))


def mmc_mean_response_s(arrival_rate_per_s: float, service_mean_s: float, c: int) -> float:
    """Mean response time: ``1/μ + C(c, a) / (cμ − λ)``."""
    mu = 1.0 / service_mean_s
    return service_mean_s + erlang_c(c, arrival_rate_per_s / mu) / (c * mu - arrival_rate_per_s)


def _response_tail(t: float, wait_prob: float, theta: float, mu: float) -> float:
    """P(T > t) for T = W + S: W is 0 with probability 1 − C, else Exp(θ = cμ − λ); S is Exp(μ)."""
    if abs(theta - mu) < 1e-12 * mu:  # W + S is Erlang-2 when the rates coincide
        tail_sum = (1.0 + mu * t) * math.exp(-mu * t)
    else:
        tail_sum = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - wait_prob) * math.exp(-mu * t) + wait_prob * tail_sum


def mmc_response_quantile_s(arrival_rate_per_s: float, service_mean_s: float, c: int, q: float = 0.99) -> float:
    """The ``q``-quantile of the response time of M/M/c (FCFS), solved from its tail."""
    mu = 1.0 / service_mean_s
    wait_prob = erlang_c(c, arrival_rate_per_s / mu)
    theta = c * mu - arrival_rate_per_s
    target = 1.0 - q
    high = service_mean_s
    while _response_tail(high, wait_prob, theta, mu) > target:
        high *= 2.0
    return brentq(lambda t: _response_tail(t, wait_prob, theta, mu) - target, 0.0, high, xtol=1e-12, rtol=1e-12)


def mmc_smallest_servers(arrival_rate_per_s: float, service_mean_s: float, *, below_s: float,
                         q: float = 0.99, limit: int = 100_000) -> int:
    """The fewest servers whose M/M/c ``q``-quantile response time is below ``below_s``.

    Raises ``ValueError`` if even one job alone takes longer (its service
    quantile) or ``limit`` servers do not suffice.
    """
    alone = -math.log(1.0 - q) * service_mean_s
    if alone >= below_s:
        raise ValueError(f"a job alone already takes {alone:.4g} s at the {q:.0%} quantile, not below {below_s:g} s")
    c = math.floor(arrival_rate_per_s * service_mean_s) + 1
    while c <= limit:
        if mmc_response_quantile_s(arrival_rate_per_s, service_mean_s, c, q) < below_s:
            return c
        c += 1
    raise ValueError(f"more than {limit} servers would be needed")


def _utilization(arrival_rate_per_s: float, service_mean_s: float) -> float:
    rho = arrival_rate_per_s * service_mean_s
    if not 0 <= rho < 1:
        raise ValueError(f"the load λ·E[S] must be in [0, 1) for one server, got {rho:g}")
    return rho


def mg1_fcfs_mean_response_s(arrival_rate_per_s: float, service_mean_s: float, service_scv: float) -> float:
    """Mean response time of M/G/1 first come, first served (Pollaczek–Khinchine).

    ``E[T] = E[S] + λ·E[S²] / (2(1 − ρ))`` with ``E[S²] = (1 + c²)·E[S]²``, ``c²``
    the squared coefficient of variation of the service time (``service_scv``):
    0 for constant service (M/D/1), 1 for exponential (M/M/1), ``e^σ² − 1`` for a
    lognormal of shape σ.
    """
    rho = _utilization(arrival_rate_per_s, service_mean_s)
    second_moment = (1.0 + service_scv) * service_mean_s**2
    return service_mean_s + arrival_rate_per_s * second_moment / (2.0 * (1.0 - rho))


def mg1_ps_mean_response_s(arrival_rate_per_s: float, service_mean_s: float) -> float:
    """Mean response time of M/G/1 processor sharing, ``E[S] / (1 − ρ)`` whatever the service distribution."""
    return service_mean_s / (1.0 - _utilization(arrival_rate_per_s, service_mean_s))
