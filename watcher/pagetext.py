"""Extract an article's text and metadata from a fetched page, isolated from the service.

``extract_article`` runs trafilatura in the calling process (``fast=True``: no fallback
extractors; comments left out). trafilatura has no timeout, is not thread-safe and keeps
caches, so the service runs it through ``ExtractorPool``: worker processes, one page at a time
each, with a per-page time limit (a worker that overruns is killed and replaced), a memory
limit (an allocation bomb kills only the worker), and ``trafilatura.meta.reset_caches()``
every ``reset_every`` pages. Workers start without the Slack secrets in their environment.
``workers=0`` runs in-process, without a time limit (tests, benchmarks).

Bytes are decoded as a browser would: BOM, else the charset declared in the Content-Type
header, else the one in a ``<meta>`` tag, else UTF-8; invalid sequences become U+FFFD.
"""

from __future__ import annotations

import codecs
import contextlib
import multiprocessing
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any, Self
from urllib.parse import urlsplit

from watcher.dedup import Signature, text_signature
from watcher.redact import without_secrets_in_environment
from watcher.types import Article, Entry

__all__ = ["ExtractResult", "ExtractorPool", "decode_html", "extract_article"]

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""",
                           re.IGNORECASE)


def decode_html(data: bytes | str, content_type: str | None = None) -> str:
    if isinstance(data, str):
        return data
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    candidates: list[str] = []
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type, re.IGNORECASE)
        if m:
            candidates.append(m.group(1))
    m2 = _META_CHARSET.search(data[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            enc = codecs.lookup(name).name
        except LookupError:
            continue
        if enc in ("utf-16-le", "utf-16-be", "utf-16", "utf-32"):  # a meta tag cannot say so
            continue
        if enc in ("latin-1", "iso8859-1", "ascii"):
            enc = "cp1252"  # what browsers do with these labels
        return data.decode(enc, errors="replace")
    return data.decode("utf-8", errors="replace")


def extract_article(html: bytes | str, url: str, *, fallback: Entry | None = None,
                    content_type: str | None = None) -> Article | None:
    """The page's article (text + title, date, outlet), or None when no text was found."""
    import trafilatura  # imported here so that importing this module stays cheap

    text_html = decode_html(html, content_type)
    if not text_html.strip():
        return None
    from trafilatura.settings import set_date_params

    dates = {**set_date_params(True), "outputformat": DATE_FORMAT}  # with the time, if known
    doc = trafilatura.bare_extraction(text_html, url=url, fast=True, with_metadata=True,
                                      include_comments=False, date_extraction_params=dates)
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not body:
        return None
    title = (getattr(doc, "title", None) or "").strip() or (fallback.title if fallback else "")
    outlet = (getattr(doc, "sitename", None) or "").strip() or None
    if fallback and fallback.outlet and (outlet is None or _is_host_name(outlet, url)):
        outlet = fallback.outlet  # the feed's title beats a name made up from the domain
    return Article(url=url, title=title, text=body,
                   published=_published(getattr(doc, "date", None), fallback),
                   outlet=outlet)


def _is_host_name(name: str, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    name = name.lower()
    return " " not in name and "." in name and (host == name or host.endswith("." + name))


def _published(meta_date: str | None, fallback: Entry | None) -> datetime | None:
    """The page's date when it names a moment (time and zone), else its day, else the feed's.

    A page that gives only a day (or a time without a zone) yields that day at 00:00 UTC,
    unless the feed entry falls on the same day: then the feed's time is kept.
    """
    feed_date = fallback.published if fallback else None
    if not meta_date:
        return feed_date
    try:
        moment = datetime.strptime(meta_date, DATE_FORMAT)
        return moment.astimezone(UTC)
    except ValueError:
        pass
    try:
        day = date.fromisoformat(meta_date[:10])
    except ValueError:
        return feed_date
    if feed_date is not None and feed_date.date() == day:
        return feed_date  # same day, and the feed knows the time too
    return datetime.combine(day, dtime(0, 0), tzinfo=UTC)


# -- the pool ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractResult:
    article: Article | None
    status: str  # "ok" | "no_text" | "timeout" | "crashed" | "error"
    error: str | None = None
    # The text's near-duplicate signature (``dedup.text_signature``), computed where the text
    # was extracted: in a worker, it costs the service's own process nothing.
    signature: Signature | None = None


Extractor = Callable[..., "Article | None"]


def _run(fn: Extractor, html: bytes | str, url: str, fallback: Entry | None,
         content_type: str | None) -> ExtractResult:
    try:
        article = fn(html, url, fallback=fallback, content_type=content_type)
    except MemoryError:
        return ExtractResult(None, "error", "out of memory while extracting")
    except Exception as exc:  # noqa: BLE001 - a page must not take the pool down
        return ExtractResult(None, "error", f"{type(exc).__name__}: {exc}"[:500])
    if article is None:
        return ExtractResult(None, "no_text", "no article text found")
    return ExtractResult(article, "ok", signature=text_signature(article.text))


def _reset_caches() -> None:
    with contextlib.suppress(Exception):  # only an optimisation
        from trafilatura.meta import reset_caches
        reset_caches()


def _worker_main(conn: Any, fn: Extractor, reset_every: int, memory_mb: int | None) -> None:
    if memory_mb:
        try:
            import resource
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    done = 0
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        if task == "reset":
            _reset_caches()
            continue
        if isinstance(task, Call):
            conn.send(task.run())
            continue
        conn.send(_run(fn, *task))
        done += 1
        if reset_every and done % reset_every == 0:
            _reset_caches()


@dataclass(frozen=True)
class Call:
    """Another job for a worker (``ExtractorPool.run``): a module-level function of other
    untrusted bytes (a feed: ``watcher.parse.parse_feed``), isolated and time-limited like a
    page. It must not raise: it returns its errors as values."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self) -> Any:
        return self.fn(*self.args, **self.kwargs)


@dataclass(frozen=True)
class Ran:
    """What came of a ``Call``: its value, or why there is none (``status``: "timeout" or
    "crashed")."""

    value: Any
    status: str = "ok"
    error: str | None = None


class _Worker:
    def __init__(self, ctx: Any, fn: Extractor, reset_every: int, memory_mb: int | None):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, fn, reset_every, memory_mb),
                                   name="watcher-extract", daemon=True)
        with without_secrets_in_environment():  # pages are hostile: no Slack token over there
            self.process.start()
        child.close()

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(5)
        finally:
            self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.conn.close()


class ExtractorPool:
    """Extraction in worker processes with a per-page time limit. Thread-safe; ``workers``
    pages are extracted at the same time. The workers start with the first page.

    ``extract`` blocks until a worker is free. ``extractor`` replaces ``extract_article`` (it
    must be a picklable module-level function with the same signature): tests use it to make a
    worker hang or die.
    """

    def __init__(self, workers: int = 1, timeout: float = 20.0, *, reset_every: int = 100,
                 memory_limit_mb: int | None = 1024, start_method: str = "spawn",
                 extractor: Extractor | None = None):
        self.workers, self.timeout, self.reset_every = workers, timeout, reset_every
        self.memory_limit_mb = memory_limit_mb
        self._fn: Extractor = extractor or extract_article
        self._ctx = multiprocessing.get_context(start_method)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._started = False
        self._done_in_process = 0

    def start(self) -> None:
        """Start the workers now (the service); else the first page starts them (a
        `run --once` with nothing new starts none)."""
        with self._lock:
            if self._started or self._closed:
                return
            for _ in range(self.workers):
                self._all.append(self._spawn())
                self._idle.put(self._all[-1])
            self._started = True

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self._fn, self.reset_every, self.memory_limit_mb)

    def extract(self, html: bytes | str, url: str, fallback: Entry | None = None, *,
                content_type: str | None = None) -> ExtractResult:
        if self._closed:
            raise RuntimeError("ExtractorPool is closed")
        if self.workers == 0:
            with self._lock:  # trafilatura is not thread-safe
                result = _run(self._fn, html, url, fallback, content_type)
                self._done_in_process += 1
                if self.reset_every and self._done_in_process % self.reset_every == 0:
                    _reset_caches()
            return result
        if not self._started:
            self.start()
        ran = self._send((html, url, fallback, content_type), "extraction")
        return ran.value if ran.status == "ok" else ExtractResult(None, ran.status, ran.error)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Ran:
        """``fn(*args, **kwargs)`` in a worker, with the pages' time and memory limits
        (in-process with ``workers=0``)."""
        if self._closed:
            raise RuntimeError("ExtractorPool is closed")
        call = Call(fn, args, kwargs)
        if self.workers == 0:
            return Ran(call.run())
        return self._send(call, getattr(fn, "__name__", "the job"))

    def _send(self, task: Any, what: str) -> Ran:
        if not self._started:
            self.start()
        worker = self._idle.get()
        try:
            ran, worker = self._on(worker, task, what)
        finally:
            self._idle.put(worker)  # the same worker, or its replacement
        return ran

    def _on(self, worker: _Worker, task: Any, what: str) -> tuple[Ran, _Worker]:
        try:
            worker.conn.send(task)
            if worker.conn.poll(self.timeout):
                return Ran(worker.conn.recv()), worker
            status = "timeout"
            error = f"{what} took longer than {self.timeout:g}s; worker killed"
        except (EOFError, OSError) as exc:
            status, error = "crashed", self._death(worker, exc)
        return Ran(None, status, error), self._replace(worker)

    @staticmethod
    def _death(worker: _Worker, exc: BaseException) -> str:
        worker.process.join(1)
        code = worker.process.exitcode
        how = f"exit code {code}" if code is not None and code >= 0 else (
            f"signal {-code}" if code is not None else type(exc).__name__)
        return f"extraction worker died ({how})"

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        if self._closed:  # closed while this page was running: no new worker
            return worker
        fresh = self._spawn()
        with self._lock:
            self._all = [fresh if w is worker else w for w in self._all]
        return fresh

    def reset_caches(self) -> None:
        """Ask every idle worker to drop trafilatura's caches (between batches)."""
        if self.workers == 0:
            with self._lock:
                _reset_caches()
            return
        if not self._started:
            return
        taken = [self._idle.get() for _ in range(self.workers)]
        try:
            for worker in taken:
                try:
                    worker.conn.send("reset")
                except OSError:
                    pass
        finally:
            for worker in taken:
                self._idle.put(worker)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()

