"""Waking idle workers at once when another worker stores work for them (PostgreSQL only).

A worker looks for work on its scheduler tick (up to 5 s apart). Without more, a burst of new
entries stored by one worker waits for the others' next ticks, and a new alert for the next
delivery run. So the transaction that stores new entries or alerts also sends
``NOTIFY watcher_work`` (``repo.wake``; PostgreSQL delivers it at commit, and not at all on
rollback), and every worker LISTENs on its own connection: new entries start its cycle at
once (or the next one, if a cycle is running), new alerts its delivery 0.5 s later
(``watcher.schedule``). The tick stays: while the connection is lost, or when alerts arrive
during a delivery run, the work waits for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from watcher.store.repo import WAKE_CHANNEL

log = logging.getLogger("watcher.wakeup")

RECONNECT_SECONDS = 5.0


class Wakeup:
    """Calls ``on_wake(payload)`` ("entries", "alerts") for each notification, from its own
    thread, until ``close``. Does nothing on SQLite (one worker: nobody else to wake)."""

    def __init__(self, engine: Engine, on_wake: Callable[[str], None]):
        self.engine = engine
        self.on_wake = on_wake
        self.listening = threading.Event()  # set while LISTEN is in place
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Wakeup:
        if self.engine.dialect.name == "postgresql":
            self._thread = threading.Thread(target=self._run, name="wakeup", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _run(self) -> None:
        import psycopg

        # The engine's own connection arguments, but a connection of its own, outside the
        # pool: it is held for as long as the worker runs.
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        failing = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(*args, **kwargs, autocommit=True) as conn:
                    conn.execute(f"LISTEN {WAKE_CHANNEL}")
                    self.listening.set()
                    if failing:
                        log.info("listening for wake-ups again")
                    failing = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._wake(note.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                if not failing:  # once per outage, not every few seconds
                    log.warning("wake-ups unavailable (%s): work is picked up on the tick",
                                str(exc).strip()[:200])
                failing = True
                self._stop.wait(RECONNECT_SECONDS)

    def _wake(self, payload: str) -> None:
        try:
            self.on_wake(payload)
        except Exception:  # a bug here must not end the listener
            log.exception("wake-up handler failed")
