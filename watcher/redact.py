"""Secrets never reach a log line, ``/healthz``, ``watcher status`` or an error message.

One helper for the whole service:

* ``register(secret)`` / ``register_url(url)`` / ``register_environment(env)`` remember the
  secrets of this process: the database password (``watcher.settings`` registers it when it
  loads the config), ``SLACK_BOT_TOKEN``, ``SLACK_WEBHOOK_URL`` and any other ``SLACK_*``
  token or secret;
* ``redact(text)`` replaces each of them, as written, %-encoded and %-decoded, with ``***``,
  and hides the password of any URL with user information
  (``postgresql://user:***@host/db``), registered or not.

``watcher.observe`` runs every log line through ``redact``, and so does ``Health`` for what
``/healthz`` says; the CLI prints errors through it. ``scrubbed_environment()`` is the
environment without Slack secrets, for child processes that have no use for them (the
extraction worker).

Everything here is linear in the text: it runs on untrusted strings (feed errors, URLs).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit

__all__ = ["MASK", "redact", "register", "register_environment", "register_url",
           "scrubbed_environment", "without_secrets_in_environment"]

MASK = "***"
MIN_SECRET = 4  # shorter values are not replaced everywhere (their URL form still is)
SECRET_ENV_PREFIXES = ("SLACK_",)
_SECRET_SUFFIXES = ("TOKEN", "URL", "SECRET", "KEY", "PASSWORD")  # SLACK_BOT_TOKEN...

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first: a secret containing another goes first
_WHITE = re.compile(r"(\s+)")


def register(secret: str | None) -> None:
    """Remember ``secret`` (with its %-encoded and %-decoded spellings) for ``redact``."""
    global _ordered
    if not secret:
        return
    forms = {secret, unquote(secret), quote(secret, safe=""), quote(unquote(secret), safe="")}
    with _lock:
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def register_url(url: str | None) -> None:
    """Remember the password of a URL (``scheme://user:password@host/...``), if it has one."""
    if not url or "@" not in url:
        return
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password is None:  # SQLAlchemy reads a password up to the last '@'; so do we
        rest = url.split("://", 1)[-1].rsplit("@", 1)[0]
        password = rest.split(":", 1)[1] if ":" in rest else None
    register(password)


def register_environment(env: Mapping[str, str]) -> None:
    """Remember the values of the Slack secrets in ``env``."""
    for key, value in env.items():
        if key.startswith(SECRET_ENV_PREFIXES) and key.endswith(_SECRET_SUFFIXES):
            register(value.strip())


def redact(text: str) -> str:
    """``text`` with every registered secret and every URL password replaced by ``***``."""
    if not text:
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = "".join(_hide_userinfo(part) for part in _WHITE.split(text))
    return text


def _hide_userinfo(token: str) -> str:
    """In a piece of text without white space: ``x://user:password@host`` -> ``user:***``."""
    scheme_end = token.find("://")
    if scheme_end < 0:
        return token
    start = scheme_end + 3
    at = token.rfind("@")
    if at < start:
        return token
    colon = token.find(":", start, at)
    if colon < 0 or "/" in token[start:colon] or token[colon + 1:at] == MASK:
        return token
    return token[:colon + 1] + MASK + token[at:]


def scrubbed_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without the Slack secrets."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if not k.startswith(SECRET_ENV_PREFIXES)}


_env_lock = threading.Lock()


@contextmanager
def without_secrets_in_environment() -> Iterator[None]:
    """Within the block, this process's environment lacks the Slack secrets: a child process
    started in it (``multiprocessing`` spawn inherits the environment) never has them. They
    are read once at start-up, so nothing in this process misses them meanwhile."""
    with _env_lock:
        saved = {k: os.environ.pop(k) for k in list(os.environ)
                 if k.startswith(SECRET_ENV_PREFIXES)}
        try:
            yield
        finally:
            os.environ.update(saved)
