"""`fsctl serve`: the HTTP lookup workers and the event-socket connection in one supervised service.

The parent binds the HTTP socket, forks the workers (one per core by default: lookups are CPU-bound
Python and FreeSWITCH blocks on each one), keeps the inbound event-socket connections itself (one per
FreeSWITCH node, fsctl.esl.nodes), and restarts a worker that dies. With one worker everything runs in one process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import signal
import sys

import gevent

from fsctl.config import Settings
from fsctl.db import make_engine
from fsctl.esl.cache_flush import DirectoryCacheFlusher
from fsctl.esl.inbound import InboundConnection
from fsctl.esl.nodes import SwitchNodes, address_label
from fsctl.esl.outbound import Application, OutboundServer
from fsctl.esl.wiring import build_dispatcher
from fsctl.httpserver import LookupServer, bind_listener
from fsctl.metrics import Metrics
from fsctl.wiring import configuration_watchers, database_jobs, switch_jobs
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)


def worker_count(settings: Settings) -> int:
    return settings.http_workers if settings.http_workers > 0 else max(1, os.cpu_count() or 1)


def lookup_server(settings: Settings, listener, handler) -> LookupServer:
    return LookupServer(
        listener,
        handler,
        request_timeout=settings.http_request_timeout,
        max_connections=settings.http_max_connections,
    )


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_CHECK_SECONDS = 1.0


def die_with_parent(parent_pid: int, stop) -> None:
    """Make this worker end when its parent does, even by `kill -9`.

    The kernel sends SIGTERM on the parent's death (prctl PR_SET_PDEATHSIG, Linux); a greenlet also
    watches getppid(), for other systems and for a parent that died before prctl ran. Without this an
    orphan keeps the listening socket, and the next `fsctl serve` fails with "address already in use".
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable; the parent watch alone ends orphans")

    def watch() -> None:
        while os.getppid() == parent_pid:
            gevent.sleep(PARENT_CHECK_SECONDS)
        log.error("the kumo service parent (pid %d) is gone; this worker stops", parent_pid)
        stop()

    gevent.spawn(watch)


def warm_in_background(settings: Settings, app: ServiceApp) -> None:
    """Load the dialplan snapshots in a greenlet that yields between tenants (lookups go first),
    then exempt what was loaded from the cyclic garbage collector (freeze_long_lived)."""
    if settings.dialplan_warm:
        app.dialplan.warm_state = "warming"  # from now: /healthz never says "cold" before it starts

        def warm_then_freeze() -> None:
            app.dialplan.warm(lambda: gevent.sleep(0))
            freeze_long_lived()

        gevent.spawn(warm_then_freeze)


def freeze_long_lived() -> None:
    """Move every object alive now out of the cyclic garbage collector's reach (gc.freeze).

    Why: a warm worker holds thousands of tenant snapshots (millions of objects at 10,000 tenants),
    and each full (generation 2) collection walks all of them: ~280 ms during which the worker answers
    nothing, which was the dialplan lookups' p99 under load (200 ms; 32 ms with this). Lookups
    allocate short-lived objects, so such collections keep coming. Frozen objects are still freed by
    reference counting when a snapshot is replaced; only a reference cycle among them would be kept,
    and snapshots are plain rows (no cycles)."""
    gc.collect()
    gc.freeze()
    log.info("%d long-lived objects exempted from the cyclic garbage collector", gc.get_freeze_count())


def _run_worker(settings: Settings, listener, metrics: Metrics, slot: int, parent_pid: int) -> None:
    metrics.use_slot(slot)
    store = LookupStore(settings.database_url, statement_timeout=settings.lookup_timeout)
    app = ServiceApp(settings, store, metrics)
    server = lookup_server(settings, listener, app.handle)
    warm_in_background(settings, app)
    gevent.signal_handler(signal.SIGTERM, server.stop)
    die_with_parent(parent_pid, server.stop)
    try:
        server.serve_forever()
    finally:
        store.dispose()


class Service:
    def __init__(self, settings: Settings, with_esl: bool = True):
        self.settings = settings
        self.workers = worker_count(settings)
        # Slot 0 is the parent's (event socket), 1..n the HTTP workers'.
        self.metrics = Metrics(
            slots=self.workers + 1, esl_links=tuple(address_label(a) for a in settings.esl_addresses)
        )
        self.listener = bind_listener(settings.http_listen)
        self.esl = (
            SwitchNodes(settings.esl_addresses, settings.esl_password, self.metrics) if with_esl else None
        )
        self.flusher = None
        # Configuration watchers per node: each keeps what it last brought to its own switch (the
        # queues mod_callcenter holds, the ACL it loaded) and catches up when that node reconnects.
        self._node_watchers: dict[int, list] = {}
        if self.esl is not None and settings.directory_cache_ms > 0:
            # Flushes are idempotent: every connected node gets each one (a node that was away
            # gets a full flush when it reconnects).
            self.flusher = DirectoryCacheFlusher(LookupStore(settings.database_url), self.esl.api_everywhere)
        if self.esl is not None:
            store = LookupStore(settings.database_url)
            for connection in self.esl.connections:
                self._node_watchers[id(connection)] = configuration_watchers(store, connection.api)
            self.esl.set_on_connect(self._on_esl_connect)
        self.watchers: list = [w for watchers in self._node_watchers.values() for w in watchers]
        self._children: dict[int, int] = {}
        self._stopping = False

    def _on_esl_connect(self, connection: InboundConnection) -> None:
        # Each hook on its own: one failing must not keep the other from catching up.
        for hook in (self.flusher, *self._node_watchers.get(id(connection), ())):
            if hook is not None:
                try:
                    hook.on_connect(connection)
                except Exception:  # noqa: BLE001 - the next check of that job retries
                    log.exception("%s: on_connect failed", type(hook).__name__)

    @property
    def address(self) -> tuple[str, int]:
        return self.listener.getsockname()[:2]

    def _fork_worker(self, slot: int) -> None:
        parent_pid = os.getpid()
        pid = gevent.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                _run_worker(self.settings, self.listener, self.metrics, slot, parent_pid)
            except BaseException:  # noqa: BLE001 - a worker must never return into the parent's code
                log.exception("HTTP worker %d crashed", slot)
                code = 1
            finally:
                os._exit(code)
        self._children[pid] = slot

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT."""
        log.info(
            "kumo %s: lookups on http://%s:%d/fs/xml with %d worker(s)", "serve", *self.address, self.workers
        )
        if self.workers == 1:
            self._start_esl()
            store = LookupStore(self.settings.database_url, statement_timeout=self.settings.lookup_timeout)
            app = ServiceApp(self.settings, store, self.metrics)
            server = lookup_server(self.settings, self.listener, app.handle)
            warm_in_background(self.settings, app)
            gevent.signal_handler(signal.SIGTERM, server.stop)
            gevent.signal_handler(signal.SIGINT, server.stop)
            try:
                server.serve_forever()
            finally:
                self._shutdown_esl()
                store.dispose()
            return
        for slot in range(1, self.workers + 1):
            self._fork_worker(slot)
        # Only after forking: a greenlet started earlier would run in every worker too.
        self._start_esl()
        gevent.signal_handler(signal.SIGTERM, self.stop)
        gevent.signal_handler(signal.SIGINT, self.stop)
        try:
            self._supervise()
        finally:
            self._shutdown_esl()

    def _supervise(self) -> None:
        while not self._stopping or self._children:
            gevent.sleep(0.2)
            for pid in list(self._children):
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, 0
                if done == 0:
                    continue
                slot = self._children.pop(pid)
                if not self._stopping:
                    log.error(
                        "HTTP worker %d (pid %d) exited with status %d; starting a new one", slot, pid, status
                    )
                    self._fork_worker(slot)

    def stop(self) -> None:
        if self._stopping:
            return
        log.info("stopping kumo service")
        self._stopping = True
        for pid in list(self._children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self._children.pop(pid, None)

    def _start_esl(self) -> None:
        if self.flusher is not None:
            # Its baseline before the first connection, whose full flush it relies on.
            self.flusher.start()
        for watcher in self.watchers:
            watcher.start()
        if self.esl is not None:
            # Live state (fsctl.esl.wiring), the outbound socket and park ring-back run in this
            # (parent) process only, started after the workers were forked.
            live_engine = make_engine(self.settings.database_url)
            self.esl.dispatcher = build_dispatcher(
                live_engine,
                self.esl.send_event,
                on_ban=self.flusher.evict_banned if self.flusher is not None else None,
                send_api=self.esl.api,
            )
            self.esl.start()
            self.switch_jobs = switch_jobs(live_engine, self.esl.api)
            for job in self.switch_jobs:
                job.start()
            self.outbound = OutboundServer(self.settings.outbound_listen, Application)
            try:
                self.outbound.start()
            except OSError as exc:
                log.error("outbound socket server %s:%d not started: %s", *self.settings.outbound_listen, exc)
                self.outbound = None
        self.database_jobs = database_jobs(make_engine(self.settings.database_url))
        for job in self.database_jobs:
            job.start()

    def _shutdown_esl(self) -> None:
        for job in getattr(self, "database_jobs", ()):
            job.stop()
        if self.flusher is not None:
            self.flusher.stop()
            # The lookup workers have stopped: nothing can be cached again after this flush. A switch
            # unreachable gets nothing; what it cached expires on its own.
            if self.esl is not None and any(c.connected for c in self.esl.connections):
                self.flusher.flush_all_on_stop()
        for watcher in self.watchers:
            watcher.stop()
        if getattr(self, "outbound", None) is not None:
            self.outbound.stop()
        for job in getattr(self, "switch_jobs", ()):
            job.stop()
        if self.esl is not None:
            self.esl.stop()
