"""Deliver typed events to feature handlers, each handler in its own greenlet with its own queue.

greenswitch 0.0.19 runs every handler of every event one after the other in a single greenlet
(defect 6): one slow handler (a database write waiting on a lock, a command to the switch) stalls
everything behind it. Here each handler has a queue: it sees its events in order, at its own pace,
and a slow or failing handler delays nobody else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import gevent
from gevent.queue import Empty, Queue

from fsctl.esl.events import Event

log = logging.getLogger(__name__)

# A handler that falls this far behind is reported (once per burst), not silently left to grow.
BACKLOG_WARNING = 10_000
BATCH = 500


class Handler:
    """One feature's reaction to events. Subclasses name the events they want in `events`
    (Event-Name, or the Event-Subclass of a CUSTOM event; "*" = everything) and implement `handle`
    or, to work on several queued events at once (one database transaction), `handle_batch`."""

    events: tuple[str, ...] = ()
    name: str = ""
    buffered: bool = False  # True: implements flush_due / flush below

    def handle(self, event: Event) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def handle_batch(self, events: list[Event]) -> None:
        for event in events:
            self.handle(event)

    # A handler may hold what its events changed and write it later, coalesced (one row write per
    # key per interval instead of one per event): it then says by when (`flush_due`, a
    # time.monotonic() deadline, None when it holds nothing) and writes it all in `flush`. The
    # worker calls `flush` at that deadline even when no further event comes, and the dispatcher on
    # `drain` and `stop`, so the database is the truth within one interval and nothing is lost.
    def flush_due(self) -> float | None:
        return None

    def flush(self) -> None:
        return None


class _Worker:
    def __init__(self, handler: Handler):
        self.handler = handler
        self.name = handler.name or type(handler).__name__
        self.queue: Queue = Queue()
        self.greenlet: gevent.Greenlet | None = None
        self.errors = 0
        self.done = 0
        self._last_error_log = 0.0
        self._warned_backlog = False
        self.busy = False
        # Handlers are duck-typed (security's AuthEventHandler is no subclass): only a `buffered`
        # one is asked for flush_due / flush.
        self.buffered = bool(getattr(handler, "buffered", False))

    def due(self) -> float | None:
        return self.handler.flush_due() if self.buffered else None

    @property
    def idle(self) -> bool:
        return not self.busy and self.queue.empty() and self.due() is None

    def put(self, event: Event) -> None:
        self.queue.put(event)
        backlog = self.queue.qsize()
        if backlog >= BACKLOG_WARNING and not self._warned_backlog:
            self._warned_backlog = True
            log.warning("event handler %s is %d events behind", self.name, backlog)
        elif backlog < BACKLOG_WARNING // 2:
            self._warned_backlog = False

    def run_batch(self, batch: list[Event]) -> None:
        self.done += len(batch)
        try:
            self.handler.handle_batch(batch)
            return
        except Exception as exc:  # noqa: BLE001 - one handler's bug must not end its loop or touch others
            if len(batch) == 1:
                self._failed(exc)
                return
        # Again one by one, so one bad event costs only itself.
        for event in batch:
            try:
                self.handler.handle_batch([event])
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)

    def flush(self) -> None:
        try:
            self.handler.flush()
        except Exception as exc:  # noqa: BLE001 - the handler keeps what it holds and retries later
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """Count a failure; log its traceback at most once a minute."""
        self.errors += 1
        now = time.monotonic()
        if now - self._last_error_log > 60:
            self._last_error_log = now
            log.error("event handler %s failed (%d failures so far)", self.name, self.errors, exc_info=exc)

    def loop(self) -> None:
        queue = self.queue
        while True:
            due = self.due()
            if due is None:
                batch = [queue.get()]
            else:
                try:
                    batch = [queue.get(timeout=max(0.0, due - time.monotonic()))]
                except Empty:
                    self.busy = True
                    try:
                        self.flush()
                    finally:
                        self.busy = False
                    continue
            self.busy = True
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                self.run_batch(batch)
            finally:
                self.busy = False


class Dispatcher:
    """Routes each event to the handlers that asked for it."""

    def __init__(self, handlers: Iterable[Handler] = ()):
        self._workers: list[_Worker] = []
        self._routes: dict[str, list[_Worker]] = {}
        self._everything: list[_Worker] = []
        self._started = False
        for handler in handlers:
            self.add(handler)

    def add(self, handler: Handler) -> None:
        worker = _Worker(handler)
        self._workers.append(worker)
        for key in handler.events:
            if key == "*":
                self._everything.append(worker)
            else:
                self._routes.setdefault(key, []).append(worker)
        if self._started:
            worker.greenlet = gevent.spawn(worker.loop)

    @property
    def handlers(self) -> list[Handler]:
        return [w.handler for w in self._workers]

    @property
    def subscribed(self) -> set[str]:
        """Keys some handler asked for ("*" when one wants everything)."""
        return set(self._routes) | ({"*"} if self._everything else set())

    def start(self) -> None:
        self._started = True
        for worker in self._workers:
            if worker.greenlet is None or worker.greenlet.dead:
                worker.greenlet = gevent.spawn(worker.loop)

    def stop(self) -> None:
        """Stop the handlers. A buffering handler first applies its queued events and writes what
        it holds (shutdown must not lose up to one interval of state); others stop at once."""
        self._started = False
        for worker in self._workers:
            if not worker.buffered:
                continue
            if worker.greenlet is not None:
                worker.greenlet.kill(block=True, timeout=2)
                worker.greenlet = None
            self._run_queued(worker)
            if worker.due() is not None:
                worker.flush()
        for worker in self._workers:
            if worker.greenlet is not None:
                worker.greenlet.kill(block=False)
                worker.greenlet = None

    def wants(self, key: str) -> bool:
        """Whether some handler listens to `key` (an Event-Name or a CUSTOM subclass)."""
        return bool(self._everything) or key in self._routes

    def submit(self, event: Event) -> None:
        """Queue an event for every handler that wants it (returns at once)."""
        for worker in self._routes.get(event.key, ()):
            worker.put(event)
        for worker in self._everything:
            worker.put(event)

    def run_inline(self, events: Iterable[Event], flush: bool = True) -> None:
        """Apply events in this greenlet, handler by handler in batches (benchmarks and replays);
        with `flush` what buffering handlers hold is written too, else they flush when due."""
        for event in events:
            self.submit(event)
        for worker in self._workers:
            self._run_queued(worker)
            if flush and worker.due() is not None:
                worker.flush()

    @staticmethod
    def _run_queued(worker: _Worker) -> None:
        while not worker.queue.empty():
            batch = []
            while len(batch) < BATCH and not worker.queue.empty():
                batch.append(worker.queue.get_nowait())
            worker.run_batch(batch)

    def backlog(self) -> int:
        return sum(w.queue.qsize() for w in self._workers)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was handled and written (buffering handlers are flushed
        now rather than at their interval); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            gevent.sleep(0)
            for worker in self._workers:
                if not worker.busy and worker.queue.empty() and worker.due() is not None:
                    worker.busy = True
                    try:
                        worker.flush()
                    finally:
                        worker.busy = False
            if all(w.idle for w in self._workers):
                return True
            gevent.sleep(0.002)
        return False
