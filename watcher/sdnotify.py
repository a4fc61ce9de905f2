"""systemd's notify protocol, for ``Type=notify`` with ``WatchdogSec=`` (deploy/watcher.service).

systemd gives the service a unix datagram socket in ``NOTIFY_SOCKET`` (a path, or an abstract
name starting with ``@``); the service sends it ``READY=1`` once it is up and ``WATCHDOG=1``
heartbeats, and systemd restarts it when no heartbeat comes within ``WatchdogSec``. The cycle
loop calls ``beat()`` once per turn (``watcher.schedule``): the first beat, right after
start-up succeeded, says ``READY=1``; every beat says ``WATCHDOG=1``. A cycle that hangs (or an
interpreter stalled on one task) stops the beats, and systemd restarts the service; its leased
work returns to the pool.

Without ``NOTIFY_SOCKET`` (not under systemd) nothing is sent. A send that fails is logged
once and never raised: the service must not stop over its watchdog.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

__all__ = ["Heartbeat", "beat", "notify"]

log = logging.getLogger("watcher.sdnotify")


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to ``$NOTIFY_SOCKET``; False when there is none or
    the send failed."""
    path = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if path.startswith("@"):
        address = "\0" + path[1:]  # abstract namespace
    elif path.startswith("/"):
        address = path
    else:
        return False  # not under systemd (or a socket kind we do not speak)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.settimeout(1.0)
        sock.connect(address)
        sock.sendall(state.encode("utf-8"))
    return True


class Heartbeat:
    """``READY=1`` with the first beat, ``WATCHDOG=1`` with every beat."""

    def __init__(self, env: Mapping[str, str] | None = None):
        self.env = env
        self.ready = False
        self._failed = False
        self._lock = threading.Lock()

    def beat(self) -> None:
        with self._lock:
            state = "WATCHDOG=1" if self.ready else "READY=1\nSTATUS=cycles running\nWATCHDOG=1"
            try:
                if notify(state, self.env):
                    self.ready = True
            except OSError as exc:
                if not self._failed:
                    log.warning("cannot notify systemd (%s): watchdog heartbeats are lost", exc)
                self._failed = True


_heartbeat = Heartbeat()


def beat() -> None:
    """One heartbeat of this process (see the module docstring)."""
    _heartbeat.beat()
