"""Flows over routes: activities that use several rate resources at once, shared by max-min fairness.

The engine's second sharing mechanism, beside the per-host tree of
:mod:`virtsim.engine.sharing`. A :class:`FlowNetwork` holds *links*, rate
resources with a capacity in units per second (bytes per second for a network
link), and *flows*, each an amount of work (bytes) that uses every link of its
route at the same time: a transfer between two hosts crosses the sender's NIC,
the switch links of its route and the receiver's NIC, and moves at one rate on
all of them. A full-duplex cable is two links, one per direction; whether a NIC
or a cable is one resource or two is the caller's choice. Nothing here is
specific to networks: any resource an activity uses several of at once fits.

Semantics
---------
Rates are **weighted max-min fair** over all the links at once, computed by
progressive filling (water-filling): every flow's rate is ``weight × level``,
the level rising for all flows together; when a link runs full, the flows
crossing it are frozen at their rate (that link is their *bottleneck*), and
when a flow reaches its own ``max_rate`` it is frozen there; the others keep
rising. The result is the unique allocation in which no flow can go faster
without slowing a flow whose rate per unit of weight is lower or equal. Every
flow has a bottleneck: a full link on which its rate per weight is the
highest, or its own ``max_rate``. A link of capacity 0 (failed) stops the flows
that cross it, at rate 0, until its capacity is restored; nothing divides by
it.

A flow's remaining work is exact: before a flow's rate changes, its remaining
work is advanced to now at its old rate. Its completion time is
``now + remaining / rate``; flows due within ``REL_TOLERANCE`` of the same
instant complete together, in the order they started, and the rates are then
recomputed once for all of them (and for whatever their ``on_done`` callbacks
start or cancel).

Why components, and what an event costs
---------------------------------------
Max-min fairness couples flows only through the links they share: a change on
one link can move the rate of any flow reachable from it through a chain of
shared links, and of no other. So an event (a flow starts, completes or is
cancelled, a link's capacity changes) recomputes only the *connected
component* of the changed links: the links it touches, the flows on them, the
links of those flows, and so on transitively. Progressive filling over a
component of F flows crossing L links, each flow crossing at most k links,
costs O(F·k·log(F·k) + L) (a heap of saturation levels). Each flow whose rate
changed then gets a new entry in the network's heap of finish times (its
old entry goes stale and is dropped when it reaches the top: Python's
``heapq``, no index kept per flow), O(log N) for N entries: the one term that sees the rest of the network, and only
logarithmically. The cost of an event is thus O(size of that component × its
links), independent of how many hosts or links the network has, and of the
flows elsewhere but for that logarithm (``benchmarks/flow_events.py``
measures it on leaf-spines of 10 to 1,000 hosts). When traffic makes one
component of the whole fabric, e.g. every host talking to every other through
shared spine links, the component is the fabric: that is what max-min
fairness across links means, not a shortcut missed.

Events happen only at changes, as in :mod:`virtsim.engine._sharing`: one plain
SimPy ``Timeout`` per wake-up, for the network's next completion, taken from a
heap of the flows' finish times; a wake-up superseded by an earlier one is not
cancelled, it fires and is ignored; one that a change merely postponed fires,
re-plans and waits again. No SimPy private field is touched.

Order and determinism: links are numbered in the order they were added, flows
in the order they started; components are solved in those orders and ties are
broken by them, never by ``id()`` or set order, so the same calls give the
same rates and the same event trace, bit for bit.

Time integrals per link (:meth:`FlowNetwork.link_stats`): bytes carried,
∫ capacity dt, seconds saturated (load at or above ``capacity × (1 − 1e-9)``,
with a positive capacity) and seconds down (capacity 0), exact because every
load is piecewise constant between events.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Iterable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import Timeout

from ._sharing import REL_TOLERANCE

INF = math.inf

SATURATED = 1.0 - 1e-9
"""A link whose load is at least its capacity times this counts as saturated."""


class Link:
    """A rate resource that flows cross: ``capacity`` units per second (bytes/s for a network link).

    Made by :meth:`FlowNetwork.add_link`. ``index`` is its place in the order
    links were added; ``load`` the sum of the rates of the flows crossing it now.
    """

    __slots__ = ("name", "index", "capacity", "flows", "load", "started",
                 "t_acc", "acc_bytes", "acc_capacity", "acc_saturated", "acc_down", "created_at",
                 "_seen", "_res", "_w", "_n", "_lv")

    def __init__(self, name: str, index: int, capacity: float, now: float):
        self.name = name
        self.index = index
        self.capacity = capacity
        self.flows: dict[Flow, None] = {}  # the live flows crossing it, in the order they started
        self.load = 0.0
        self.started = 0  # flows ever started across it
        self.created_at = now
        self.t_acc = now
        self.acc_bytes = 0.0
        self.acc_capacity = 0.0
        self.acc_saturated = 0.0
        self.acc_down = 0.0
        self._seen = 0  # the component search that last reached it
        # Scratch of progressive filling: residual capacity, weight and number
        # of the unfrozen flows across it, and its current saturation level.
        self._res = 0.0
        self._w = 0.0
        self._n = 0
        self._lv = 0.0

    def __repr__(self) -> str:
        return f"<Link {self.name} capacity={self.capacity:g} load={self.load:g} flows={len(self.flows)}>"

    def _account(self, now: float) -> None:
        """Bring the time integrals up to ``now`` before the load or the capacity changes."""
        dt = now - self.t_acc
        if dt > 0.0:
            cap = self.capacity
            self.acc_bytes += self.load * dt
            self.acc_capacity += cap * dt
            if cap > 0.0:
                if self.load >= cap * SATURATED:
                    self.acc_saturated += dt
            else:
                self.acc_down += dt
            self.t_acc = now


class Flow:
    """An amount of work moving over a route of links at one rate, made by :meth:`FlowNetwork.start`.

    ``amount`` (bytes) started at ``started_at`` (s) over ``links``; ``rate``
    is its current rate (0 once it ended); ``done`` is a SimPy event that
    succeeds, with the flow as its value, when the flow completes (a cancelled
    flow never triggers it). ``on_done(flow)`` is called once at completion;
    ``data`` is free for the caller.
    """

    __slots__ = ("network", "amount", "links", "max_rate", "weight", "on_done", "data", "done",
                 "started_at", "finished_at", "seq", "rate", "cancelled",
                 "_rem", "_t", "_t_finish", "_live", "_seen", "_frozen", "_new")

    def __repr__(self) -> str:
        state = "live" if self._live else ("cancelled" if self.cancelled else "done")
        return f"<Flow #{self.seq} {state} rate={self.rate:g} over {[link.name for link in self.links]}>"

    @property
    def active(self) -> bool:
        """True until the flow completes or is cancelled."""
        return self._live

    def remaining(self, now: float) -> float:
        """Work left at time ``now`` (bytes); 0 once the flow ended."""
        if not self._live:
            return 0.0
        rem = self._rem - self.rate * (now - self._t)
        return rem if rem > 0.0 else 0.0


class FlowNetwork:
    """Links and the flows over them, on a SimPy environment; see the module's docstring.

    ``completions`` counts completed flows; ``recomputations`` the components
    solved and ``flows_solved`` the flows in them (what events cost).
    """

    def __init__(self, env: simpy.Environment, *, name: str = "network"):
        self.env = env
        self.name = name
        self.links: dict[str, Link] = {}
        # (t_finish, seq, flow) of the flows with a finite finish time, a binary heap; an entry whose time is no
        # longer its flow's (rate changed, flow ended) is stale and dropped when it reaches the top.
        self._plan: list[tuple[float, int, int, Flow]] = []
        self._pushes = itertools.count()  # breaks ties between two entries of one flow at one time
        self._seq = 0
        self._search = 0  # numbers the component searches (marks instead of sets)
        self._pending: simpy.Event | None = None  # the one wake-up that counts
        self._pending_time = INF
        self._wake_callbacks = [self._wake]  # shared by the wake-ups: SimPy only reads it
        self._batch = False
        self._dirty: dict[Link, None] = {}  # links changed during a batch, in the order they changed
        self.completions = 0
        self.recomputations = 0
        self.flows_solved = 0

    def __repr__(self) -> str:
        return f"<FlowNetwork {self.name}: {len(self.links)} links>"

    # -- links -------------------------------------------------------------------

    def add_link(self, name: str, capacity: float) -> Link:
        """Add a link of ``capacity`` units per second (bytes/s); 0 is a link that is down."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.name}: a link's name must be a non-empty string, got {name!r}")
        if name in self.links:
            raise ValueError(f"{self.name}: link {name!r} exists already")
        _check_capacity(capacity, name)
        link = Link(name, len(self.links), float(capacity), self.env.now)
        self.links[name] = link
        return link

    def link(self, name: str) -> Link:
        """The link called ``name``; a misspelt name gets suggestions."""
        try:
            return self.links[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self.links), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise KeyError(f"{self.name}: no link {name!r}{hint}") from None

    def set_capacity(self, link: Link | str, capacity: float) -> None:
        """Change a link's capacity (units per second), from now: it degrades, fails (0) or is restored."""
        link = self._resolve(link)
        _check_capacity(capacity, link.name)
        now = self.env.now
        link._account(now)
        link.capacity = float(capacity)
        self._changed((link,), now)

    # -- flows -------------------------------------------------------------------

    def start(self, amount: float, links: Iterable[Link | str], *, max_rate: float = INF, weight: float = 1.0,
              on_done: Callable[[Flow], Any] | None = None, data: Any = None) -> Flow:
        """Start moving ``amount`` (bytes) over ``links`` at once, at most ``max_rate`` per second.

        ``weight`` > 0 is the flow's share relative to the others on the links
        it crosses (weighted max-min). A route crosses each link at most once;
        a flow over no links needs a finite ``max_rate`` (it then runs at it).
        """
        if not amount > 0 or amount == INF:
            raise ValueError(f"{self.name}: amount must be a finite number > 0, got {amount!r}")
        if not max_rate > 0:
            raise ValueError(f"{self.name}: max_rate must be > 0, got {max_rate!r}")
        if not 0 < weight < INF:
            raise ValueError(f"{self.name}: weight must be a finite number > 0, got {weight!r}")
        route = tuple(self._resolve(link) for link in links)
        if len(set(route)) != len(route):
            seen: set[Link] = set()
            twice = [link.name for link in route if link in seen or seen.add(link)]
            raise ValueError(f"{self.name}: a route crosses each link once; {twice} appear twice")
        if not route and max_rate == INF:
            raise ValueError(f"{self.name}: a flow over no links needs a finite max_rate")
        env = self.env
        now = env.now
        flow = Flow.__new__(Flow)  # every field set here
        flow.network = self
        flow.amount = float(amount)
        flow.links = route
        flow.max_rate = float(max_rate)
        flow.weight = float(weight)
        flow.on_done = on_done
        flow.data = data
        flow.done = env.event()
        flow.started_at = now
        flow.finished_at = None
        self._seq += 1
        flow.seq = self._seq
        flow.rate = 0.0
        flow.cancelled = False
        flow._rem = flow.amount
        flow._t = now
        flow._t_finish = INF
        flow._live = True
        flow._seen = 0
        flow._frozen = False
        flow._new = 0.0
        for link in route:
            link.flows[flow] = None
            link.started += 1
        if route:
            self._changed(route, now)
        else:  # alone: its own limit is its rate
            self._set_rate(flow, flow.max_rate, now)
            self._plan_wakeup(now)
        return flow

    def cancel(self, flow: Flow) -> None:
        """Stop a flow without completing it: ``on_done`` is not called, ``done`` never triggers."""
        if not flow._live:
            return
        now = self.env.now
        flow._rem = flow.remaining(now)
        flow._t = now
        flow._live = False
        flow.cancelled = True
        flow.finished_at = now
        flow.rate = 0.0
        flow._t_finish = INF  # its entry in the plan is stale now
        for link in flow.links:
            del link.flows[flow]
        self._changed(flow.links, now)

    def flows(self) -> list[Flow]:
        """The live flows, in the order they started."""
        out: dict[Flow, None] = {}
        for link in self.links.values():
            out.update(link.flows)
        out.update({f: None for t, _, _, f in self._plan if not f.links and f._live and t == f._t_finish})
        return sorted(out, key=_SEQ)

    # -- statistics --------------------------------------------------------------

    def link_stats(self, now: float | None = None) -> list[dict[str, Any]]:
        """Per link, in the order added, its time integrals up to ``now`` (default: the clock) as plain dicts.

        Keys: ``link``, ``capacity_bytes_per_s`` (now), ``flows`` (crossing it
        now), ``flows_started``, ``elapsed_s`` (since it was added), ``bytes``
        (carried), ``capacity_bytes`` (∫ capacity dt), ``utilization``
        (``bytes / capacity_bytes``, 0 without capacity), ``saturated_s`` and
        ``down_s`` (seconds at capacity 0).
        """
        now = self.env.now if now is None else now
        rows = []
        for link in self.links.values():
            dt = now - link.t_acc
            if dt < 0.0:
                raise ValueError(f"{self.name}: link_stats at {now!r}, before the last change at {link.t_acc!r}")
            cap = link.capacity
            carried = link.acc_bytes + link.load * dt
            offered = link.acc_capacity + cap * dt
            saturated = link.acc_saturated + (dt if cap > 0.0 and link.load >= cap * SATURATED else 0.0)
            down = link.acc_down + (dt if cap == 0.0 else 0.0)
            rows.append({
                "link": link.name,
                "capacity_bytes_per_s": cap,
                "flows": len(link.flows),
                "flows_started": link.started,
                "elapsed_s": now - link.created_at,
                "bytes": carried,
                "capacity_bytes": offered,
                "utilization": carried / offered if offered > 0.0 else 0.0,
                "saturated_s": saturated,
                "down_s": down,
            })
        return rows

    # -- changes -----------------------------------------------------------------

    def _resolve(self, link: Link | str) -> Link:
        if isinstance(link, Link):
            if self.links.get(link.name) is not link:
                raise ValueError(f"{self.name}: link {link.name!r} belongs to another network")
            return link
        return self.link(link)

    def _changed(self, links: Iterable[Link], now: float) -> None:
        """Links whose flows or capacity changed: re-share their component now, or when the batch ends."""
        if self._batch:
            dirty = self._dirty
            for link in links:
                dirty[link] = None
            return
        self._reshare(links, now)
        self._plan_wakeup(now)

    def _reshare(self, seeds: Iterable[Link], now: float) -> None:
        """Recompute the rates of the component reachable from ``seeds`` through shared links."""
        self._search += 1
        mark = self._search
        links: list[Link] = []
        flows: list[Flow] = []
        todo = []
        for link in seeds:
            if link._seen != mark:
                link._seen = mark
                todo.append(link)
        while todo:
            link = todo.pop()
            links.append(link)
            for f in link.flows:
                if f._seen != mark:
                    f._seen = mark
                    flows.append(f)
                    for other in f.links:
                        if other._seen != mark:
                            other._seen = mark
                            todo.append(other)
        # Solve in start order and link order, whatever way the search went.
        flows.sort(key=_SEQ)
        links.sort(key=_INDEX)
        self.recomputations += 1
        self.flows_solved += len(flows)
        _fill(flows, links)
        for f in flows:
            if f._new != f.rate:
                self._set_rate(f, f._new, now)
        for link in links:
            load = 0.0
            for f in link.flows:
                load += f.rate
            if load != link.load:
                link._account(now)
                link.load = load

    def _set_rate(self, f: Flow, rate: float, now: float) -> None:
        """From now on ``f`` runs at ``rate``: its remaining work is first advanced at the old one."""
        rem = f._rem - f.rate * (now - f._t)
        f._rem = rem if rem > 0.0 else 0.0
        f._t = now
        f.rate = rate
        t_finish = now + f._rem / rate if rate > 0.0 else INF
        if t_finish != f._t_finish:
            f._t_finish = t_finish  # any entry of the old time is stale now
            if t_finish < INF:
                heappush(self._plan, (t_finish, f.seq, next(self._pushes), f))

    # -- completions -------------------------------------------------------------

    def _top(self) -> Flow | None:
        """The planned flow due first, stale entries dropped on the way."""
        plan = self._plan
        while plan:
            t, _, _, f = plan[0]
            if f._live and t == f._t_finish:
                return f
            heappop(plan)
        return None

    def _plan_wakeup(self, now: float) -> None:
        top = self._top()
        best = top._t_finish if top is not None else INF
        # A pending wake-up at or before the new plan is kept: when it fires
        # early it only re-plans.
        if best >= self._pending_time:
            return
        self._pending_time = best
        ev = Timeout(self.env, best - now if best > now else 0.0)
        ev.callbacks = self._wake_callbacks
        self._pending = ev

    def _wake(self, event: simpy.Event) -> None:
        if event is not self._pending:
            return  # superseded by an earlier wake-up
        self._pending = None
        self._pending_time = INF
        now = self.env.now
        horizon = now + REL_TOLERANCE * (now if now > 1.0 else 1.0)
        finished: list[Flow] = []
        while (f := self._top()) is not None:
            if f._t_finish > horizon and f.remaining(now) > REL_TOLERANCE * (f.amount if f.amount > 1.0 else 1.0):
                break
            heappop(self._plan)
            f._t_finish = INF
            finished.append(f)
        if not finished:
            self._plan_wakeup(now)  # planned earlier, since postponed
            return
        finished.sort(key=_SEQ)
        self._batch = True
        for f in finished:
            f._rem = 0.0
            f._t = now
            f._live = False
            f.finished_at = now
            f.rate = 0.0
            for link in f.links:
                del link.flows[f]
                self._dirty[link] = None
            f.done.succeed(f)
        self.completions += len(finished)
        # Callbacks run inside the batch: what they start or cancel is shared
        # out together with the completions, in one recomputation.
        try:
            for f in finished:
                if f.on_done is not None:
                    f.on_done(f)
        finally:
            self._batch = False
            dirty = self._dirty
            self._dirty = {}
            if dirty:
                self._reshare(dirty, now)
            self._plan_wakeup(now)


def _SEQ(f: Flow) -> int:
    return f.seq


def _INDEX(link: Link) -> int:
    return link.index


def _check_capacity(capacity: float, name: str) -> None:
    if not 0 <= capacity < INF:
        raise ValueError(f"{name}: capacity must be a finite number >= 0 (units per second), got {capacity!r}")


def _fill(flows: list[Flow], links: list[Link]) -> None:
    """Weighted max-min rates of ``flows`` (into ``f._new``) by progressive filling over ``links``.

    Every unfrozen flow runs at ``weight × level``. A heap holds the level at
    which each link would run full, ``residual / unfrozen weight``, and each
    flow's own limit, ``max_rate / weight``. The lowest entry freezes its flows
    (a link: all its unfrozen flows at ``weight × level``; a limit: its flow at
    ``max_rate``) and updates the levels of the links they cross. A link's
    level never falls below the current one (it was not full), so the level
    only rises. At equal levels limits come first, then links and flows in
    their order. Ends when every flow is frozen: each once, each freeze
    pushing at most one entry per link it crosses.
    """
    heap: list = []
    for link in links:
        link._res = link.capacity
        link._w = 0.0
        link._n = 0
    for f in flows:
        f._frozen = False
        w = f.weight
        for link in f.links:
            link._w += w
            link._n += 1
        if f.max_rate < INF:
            heappush(heap, (f.max_rate / w, 0, f.seq, f))
    for link in links:
        if link._n:
            lv = link._lv = link._res / link._w
            heappush(heap, (lv, 1, link.index, link))
    level = 0.0
    left = len(flows)
    while left:
        lv, kind, _, obj = heappop(heap)
        if kind == 0:
            f = obj
            if f._frozen:
                continue
            if lv > level:
                level = lv
            frozen = [f]
            f._new = f.max_rate
        else:
            link = obj
            if not link._n or lv != link._lv:
                continue  # stale: the link's level moved since
            if lv > level:
                level = lv
            frozen = [f for f in link.flows if not f._frozen]
            for f in frozen:
                f._new = f.weight * level
        for f in frozen:
            f._frozen = True
            left -= 1
            w = f.weight
            r = f._new
            for link in f.links:
                n = link._n - 1
                link._n = n
                link._res -= r
                if n:
                    link._w -= w
                    if link._w <= 0.0:  # rounding: add the unfrozen weights up again
                        link._w = sum(g.weight for g in link.flows if not g._frozen)
                    lv = link._res / link._w
                    if lv < level:
                        lv = level
                    link._lv = lv
                    heappush(heap, (lv, 1, link.index, link))
                else:
                    link._w = 0.0


__all__ = ["INF", "REL_TOLERANCE", "SATURATED", "Flow", "FlowNetwork", "Link"]
