"""What every notifier promises: render, send, and say whether a retry can help.

A notifier never sleeps, never loops and never records anything: the delivery stage owns the
retry loop, the outbox and the exactly-once check. A notifier answers one ``SendResult``:

    sent     the message is in Slack (``ts``/``channel`` when the transport tells them)
    retry    a later attempt may succeed (rate limit, 5xx, timeout, connection refused);
             ``retry_after`` is the server's wish in seconds when it stated one
    failed   retrying cannot help (bad token, unknown channel, rejected message...);
             ``reason`` is the Slack error code followed by a hint in words

No token or webhook URL ever appears in a ``SendResult`` or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from watcher.types import Alert

Outcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    ts: str | None = None
    channel: str | None = None  # the channel id Slack answered with (chat.update needs an id)
    retry_after: float | None = None
    reason: str | None = None  # "<code>: <hint in words>" for retry/failed
    code: str | None = None  # the bare Slack error code or transport kind, e.g. "ratelimited"

    @property
    def ok(self) -> bool:
        return self.outcome == "sent"


@runtime_checkable
class Notifier(Protocol):
    name: str
    supports_threads: bool

    def send(self, alert: Alert) -> SendResult:
        """Post one alert (a thread reply when ``alert.thread_ts`` is set and threads work)."""
        ...

    def update_sources(self, alert: Alert, channel: str, ts: str) -> SendResult:
        """Re-render ``alert`` (with its new ``sources`` count) over the message at ``ts``."""
        ...

    def find_sent(self, alert: Alert, channel: str, oldest: float | None) -> SendResult | None:
        """Look for a message already posted for ``alert.id``.

        A "sent" result when found; None when it is certainly not there; a "retry"/"failed"
        result when the lookup itself could not be done (do not assume "not sent" then).
        """
        ...


def sent(ts: str | None = None, channel: str | None = None) -> SendResult:
    return SendResult("sent", ts=ts, channel=channel)


def retry(code: str, hint: str, retry_after: float | None = None) -> SendResult:
    return SendResult("retry", retry_after=retry_after, reason=f"{code}: {hint}", code=code)


def failed(code: str, hint: str) -> SendResult:
    return SendResult("failed", reason=f"{code}: {hint}", code=code)
