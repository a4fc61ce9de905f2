"""Poll one feed: conditional GET, parse only when it changed, per-feed backoff.

``poll_feed`` is pure apart from the fetcher: it takes the feed's remembered ``FeedState`` and
``now`` and returns the new state (nothing is written anywhere). Which feeds are due is the
database's answer (``repo.claim_due_feeds``). Outcome kinds (``status``):

* ``ok`` / ``empty``: fetched and parsed (``parsed`` holds the entries);
* ``not_modified``: HTTP 304; ``unchanged``: 200 with a body byte-identical to the last one
  (sha256), which counts as unchanged whether or not the server sends validators; neither is
  parsed, ``parsed`` is None;
* a fetch kind (``timeout``, ``gone``, ``rate_limited``...) or ``not_a_feed``: an error;
* ``disabled``: the feed is disabled, nothing was fetched.

At most ``[fetch] max_entries_per_poll`` entries are taken from one poll, the newest by
published date: a feed of 20,000 items cannot start 20,000 page fetches.

Errors back off: next check after ``min(interval * 2**errors, 6h)``, later if the server asked
for it with Retry-After. HTTP 410 disables the feed; so does failing for more than three days
(both: ``consecutive_errors`` spanning three days of backoff, and no success for three days).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from watcher.fetch import FEED_ACCEPT, Fetcher, FetchStatus
from watcher.parse import ParsedFeed, parse_feed
from watcher.types import FeedState

__all__ = ["BACKOFF_CAP", "DISABLE_AFTER", "PollOutcome", "backoff", "poll_feed"]

BACKOFF_CAP = timedelta(hours=6)
RETRY_AFTER_CAP = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class PollOutcome:
    state: FeedState  # the new state, to store
    parsed: ParsedFeed | None  # None when unchanged, failed or disabled
    status: str
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.parsed is not None


def backoff(interval: int, errors: int) -> timedelta:
    """Wait after the ``errors``-th consecutive error (errors >= 1)."""
    if errors <= 0:
        return timedelta(seconds=interval)
    seconds = interval * 2 ** min(errors, 32)
    return min(timedelta(seconds=seconds), BACKOFF_CAP)


def errors_spanning(interval: int, span: timedelta = DISABLE_AFTER) -> int:
    """How many consecutive errors, backing off as ``backoff`` does, cover ``span``."""
    elapsed, errors = timedelta(0), 0
    while elapsed <= span:
        errors += 1
        elapsed += backoff(interval, errors)
    return errors


Parser = Callable[..., ParsedFeed]  # parse_feed, or a stand-in that runs it elsewhere


def poll_feed(fetcher: Fetcher, state: FeedState, now: datetime,
              parse: Parser = parse_feed) -> PollOutcome:
    """``parse``: how a changed feed is parsed (the service runs ``parse_feed`` in its
    isolated worker processes)."""
    if state.disabled_reason:
        return PollOutcome(state, None, "disabled", state.disabled_reason)
    result = fetcher.get(state.url, etag=state.etag, last_modified=state.last_modified,
                         accept=FEED_ACCEPT)
    if result.status == FetchStatus.NOT_MODIFIED:
        return PollOutcome(_success(state, now, "not_modified"), None, "not_modified")
    if not result.ok:
        return _failure(state, now, result.status, result.error or result.status,
                        result.retry_after)
    body_hash = hashlib.sha256(result.body).hexdigest()
    etag = result.headers.get("etag") or None
    last_modified = result.headers.get("last-modified") or None
    if state.body_hash is not None and body_hash == state.body_hash:
        new = _success(state, now, "unchanged")
        return PollOutcome(replace(new, etag=etag, last_modified=last_modified), None,
                           "unchanged")
    parsed = parse(result.body, result.headers, state.url, base_url=result.url,
                   max_entries=fetcher.settings.max_entries_per_poll or None)
    if parsed.status == "not_a_feed":
        return _failure(state, now, "not_a_feed", parsed.error or "not a feed", None)
    new = replace(_success(state, now, parsed.status), etag=etag, last_modified=last_modified,
                  body_hash=body_hash, title=parsed.title or state.title)
    return PollOutcome(new, parsed, parsed.status)


def _success(state: FeedState, now: datetime, status: str) -> FeedState:
    return replace(state, next_check_at=now + timedelta(seconds=state.interval),
                   last_success_at=now, last_status=status, last_error=None,
                   consecutive_errors=0)


def _failure(state: FeedState, now: datetime, status: str, error: str,
             retry_after: float | None) -> PollOutcome:
    errors = state.consecutive_errors + 1
    wait = backoff(state.interval, errors)
    if retry_after is not None:
        wait = max(wait, min(timedelta(seconds=retry_after), RETRY_AFTER_CAP))
    disabled = None
    if status == FetchStatus.GONE:
        disabled = "gone (HTTP 410)"
    elif (errors >= errors_spanning(state.interval)
          and (state.last_success_at is None or now - state.last_success_at > DISABLE_AFTER)):
        since = (f"since {state.last_success_at:%Y-%m-%d %H:%M} UTC"
                 if state.last_success_at else "since it was added")
        disabled = f"failing for more than 3 days ({errors} errors {since}; last: {error})"
    new = replace(state, next_check_at=now + wait, last_status=status, last_error=error,
                  consecutive_errors=errors, disabled_reason=disabled)
    return PollOutcome(new, None, status, error)
