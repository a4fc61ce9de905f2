"""The console notifier: prints a plain-text rendering; used when Slack is not configured."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from watcher.notify.base import SendResult, sent
from watcher.notify.story import plain


class ConsoleNotifier:
    name = "console"
    supports_threads = False

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self._count = 0
        self._lock = threading.Lock()

    def _next_ts(self) -> str:
        with self._lock:
            self._count += 1
            return str(self._count)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n\n")
        self.stream.flush()

    def send(self, alert: Any) -> SendResult:
        ts = self._next_ts()
        self._write(plain(alert))
        return sent(ts=ts, channel=alert.channel)

    def update_sources(self, alert: Any, channel: str, ts: str) -> SendResult:
        self._write(f"[SOURCES] message {ts}: {alert.summary} is now reported by "
                    f"{alert.sources} outlet{'s' if alert.sources != 1 else ''}")
        return sent(ts=ts, channel=channel)

    def find_sent(self, alert: Any, channel: str, oldest: float | None) -> SendResult | None:
        return None
