"""Jobs replayed from a jobs file (open workloads with ``arrivals: {type: file}``)."""

from __future__ import annotations

from simpy.events import Timeout

from ..components import Consumer
from .starter import JobStarter


class TraceReplay:
    """Jobs arrive at given times, each with its own target and CPU demand.

    ``times_s`` (non-decreasing), ``targets`` (indices into ``consumers`` and
    ``target_codes``) and ``cpu_s`` are numpy arrays; they are turned into
    Python numbers a chunk at a time, so a million-row trace costs its arrays
    and no more.
    """

    CHUNK = 65536

    def __init__(self, env, log, workload: int, consumers: list[Consumer], target_codes: list[int],
                 times_s, targets, cpu_s, threads: int, **job_options):
        self.env = env
        self.consumers = consumers
        self.target_codes = target_codes
        self._arrays = (times_s, targets, cpu_s)
        self._rows = len(times_s)
        self._offset = 0  # row number of the chunk's first row
        self._chunk: tuple[list, list, list] = ([], [], [])
        self._next = 0  # position in the chunk
        self.starter = JobStarter(env, log, workload, threads, **job_options)

    def _load_chunk(self, start: int) -> None:
        stop = min(start + self.CHUNK, self._rows)
        self._chunk = tuple(a[start:stop].tolist() for a in self._arrays)
        self._offset = start
        self._next = 0

    def start(self) -> None:
        if self._rows:
            self._load_chunk(0)
            self._callbacks = [self._arrive]
            self.env.timeout(self._chunk[0][0]).callbacks = self._callbacks

    def _arrive(self, event) -> None:
        times, targets, cpu = self._chunk
        i = self._next
        k = targets[i]
        now = self.env.now
        self.starter.start(self.consumers[k], self.target_codes[k], cpu[i], now)
        i += 1
        if i == len(times):
            if self._offset + i == self._rows:
                return
            self._load_chunk(self._offset + i)
            times = self._chunk[0]
            i = 0
        self._next = i
        delay = times[i] - now
        Timeout(self.env, delay if delay > 0.0 else 0.0).callbacks = self._callbacks


def replay(w, index: int, wiring, threads: int, options: dict) -> TraceReplay:
    """The source of an open workload whose arrivals are its parsed jobs file (``wiring.tables``)."""
    table = wiring.tables[w.name]
    consumers = [wiring.platform.consumer(t) for t in table.target_names]
    codes = [wiring.target_code[t] for t in table.target_names]
    return TraceReplay(wiring.env, wiring.log, index, consumers, codes, table.times_s, table.target_codes,
                       table.cpu_s, threads, **options)
