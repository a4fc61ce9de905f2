"""Fetch a URL safely: one GET, classified into a small set of outcome kinds.

``Fetcher.get`` never raises for network or HTTP problems: every transport exception and every
HTTP status goes through ``classify`` and comes back as a ``FetchResult`` whose ``status`` is a
``FetchStatus`` and whose ``error`` says what happened in words.

Safety, on every request and on every redirect hop:

* timeouts on connect and on the whole request, body included: every read and write on a
  connection may only wait for what is left of ``settings.timeout``, so a server trickling bytes
  (headers or body) is cut off on time; DNS lookups are bounded by the connect timeout;
* a cap on the *decoded* body: the raw bytes are read and every coding listed in
  Content-Encoding (``gzip, gzip`` included) is undone here, one bounded step after another,
  each step's output capped at ``max_bytes``, so a gzip bomb stops at ``max_bytes`` without
  being inflated in memory; a coding other than gzip/deflate (br, zstd, compress...) is
  refused (``unsupported_encoding``), never handed to a decoder without a limit;
* redirects are followed by hand, at most ``max_redirects``, each target checked again;
* at most ``max_per_host`` requests to one host name at a time (``netguard.HostSlots``); a
  request waits for a free slot before its own time starts, at most four times ``timeout``;
* no requests to loopback, private, link-local, multicast, reserved or otherwise non-global
  addresses, unless ``settings.allow_private_addresses``: ``watcher.netguard`` checks every
  address when the connection is made, so DNS rebinding between check and connect does not get
  through (see its docstring for the threat and the exact guarantees). ``allow_hosts`` exempts
  exact ``host:port`` origins; it exists for tests that serve a first hop from 127.0.0.1 and
  must not be used in configuration.

Cookies are never stored and proxies from the environment are ignored (``trust_env=False``).
"""

from __future__ import annotations

import email.utils
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import NamedTuple, Self
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from watcher import netguard
from watcher.netguard import address_problem  # part of this module's API (__all__)
from watcher.settings import FetchSettings

__all__ = [
    "FEED_ACCEPT", "PAGE_ACCEPT", "PAGE_TYPES", "FetchResult", "FetchStatus", "Fetcher",
    "address_problem", "classify",
]


class FetchStatus(StrEnum):
    """What became of a fetch; members are str and compare equal to their values ("ok"...)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    DNS_ERROR = "dns_error"
    BLOCKED_ADDRESS = "blocked_address"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"
    NOT_FOUND = "not_found"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    CLIENT_ERROR = "client_error"
    SERVER_ERROR = "server_error"
    TOO_LARGE = "too_large"
    BAD_CONTENT_TYPE = "bad_content_type"
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    BAD_URL = "bad_url"


FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PAGE_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Signatures of content that is certainly not a page, for servers that send no Content-Type.
_BINARY_MAGIC = {b"%PDF": "application/pdf", b"PK\x03\x04": "application/zip",
                 b"\x89PNG": "image/png", b"GIF8": "image/gif", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL, after redirects
    status: str  # a FetchStatus value
    http_status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case keys
    content_type: str | None = None  # the Content-Type header as sent (charset included)
    retry_after: float | None = None  # seconds
    error: str | None = None  # in words
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == FetchStatus.OK

    @property
    def media_type(self) -> str | None:
        return _media_type(self.content_type)

    @property
    def charset(self) -> str | None:
        return charset_of(self.content_type)


# -- internal outcomes, turned into kinds by classify() -------------------------------------


class FetchProblem(Exception):
    """A problem ``get`` detects itself (too large, bad redirect...): its kind and words."""

    def __init__(self, kind: FetchStatus, message: str):
        self.kind = kind
        super().__init__(message)


class Classification(NamedTuple):
    status: FetchStatus
    error: str | None
    retry_after: float | None = None


_DNS_WORDS = ("name or service not known", "nodename nor servname", "name resolution",
              "getaddrinfo failed", "no address associated", "no such host")


def classify(outcome: BaseException | int, headers: Mapping[str, str] | None = None, *,
             settings: FetchSettings | None = None, now: float | None = None) -> Classification:
    """Map a transport exception or an HTTP status code to (kind, error in words, retry_after).

    The one place where outcomes become kinds; ``Fetcher.get`` calls nothing else.
    """
    s = settings or FetchSettings()
    if isinstance(outcome, int):
        return _classify_status(outcome, headers or {}, now)
    exc = outcome
    if isinstance(exc, FetchProblem):
        return Classification(exc.kind, str(exc))
    if isinstance(exc, netguard.AddressRefused):
        return Classification(FetchStatus.BLOCKED_ADDRESS, str(exc))
    if isinstance(exc, netguard.LookupFailed):
        return Classification(FetchStatus.DNS_ERROR, str(exc))
    if isinstance(exc, httpx.ConnectTimeout):
        return Classification(FetchStatus.TIMEOUT,
                              f"connect timeout after {_n(s.connect_timeout)}s")
    if isinstance(exc, httpx.ReadTimeout):
        return Classification(FetchStatus.TIMEOUT, f"no response within {_n(s.timeout)}s")
    if isinstance(exc, httpx.TimeoutException):
        return Classification(FetchStatus.TIMEOUT, f"timeout ({type(exc).__name__}): {exc}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return Classification(FetchStatus.BAD_URL, f"invalid URL: {exc}")
    if isinstance(exc, httpx.DecodingError):
        return Classification(FetchStatus.SERVER_ERROR, f"body could not be decoded: {exc}")
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if isinstance(exc, socket.gaierror) or any(w in low for w in _DNS_WORDS):
        return Classification(FetchStatus.DNS_ERROR, f"DNS lookup failed: {text}")
    if "refused" in low:
        return Classification(FetchStatus.CONNECTION_ERROR, "connection refused")
    if "ssl" in low or "certificate" in low:
        return Classification(FetchStatus.CONNECTION_ERROR, f"TLS error: {text}")
    if isinstance(exc, (httpx.TransportError, OSError, httpcore.NetworkError)):
        return Classification(FetchStatus.CONNECTION_ERROR, f"{type(exc).__name__}: {text}")
    return Classification(FetchStatus.CONNECTION_ERROR, f"unexpected {type(exc).__name__}: {text}")


def _classify_status(code: int, headers: Mapping[str, str], now: float | None) -> Classification:
    if 200 <= code < 300:
        return Classification(FetchStatus.OK, None)
    if code == 304:
        return Classification(FetchStatus.NOT_MODIFIED, None)
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    if code == 404:
        return Classification(FetchStatus.NOT_FOUND, "not found (HTTP 404)")
    if code == 410:
        return Classification(FetchStatus.GONE, "gone (HTTP 410)")
    if code == 429 or (code == 503 and retry_after is not None):
        after = f", retry after {_n(retry_after)}s" if retry_after is not None else ""
        return Classification(FetchStatus.RATE_LIMITED, f"rate limited (HTTP {code}{after})",
                              retry_after)
    if 300 <= code < 400:
        return Classification(FetchStatus.BAD_REDIRECT, f"HTTP {code} without a usable Location")
    if code in (401, 403):
        return Classification(FetchStatus.CLIENT_ERROR, f"access denied (HTTP {code})")
    if 400 <= code < 500:
        return Classification(FetchStatus.CLIENT_ERROR, f"client error (HTTP {code})")
    if code >= 500:
        return Classification(FetchStatus.SERVER_ERROR, f"server error (HTTP {code})")
    return Classification(FetchStatus.SERVER_ERROR, f"unexpected HTTP status {code}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _n(x: float) -> str:
    return f"{x:g}"


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


# -- the fetcher -------------------------------------------------------------------------------


class Fetcher:
    """Thread-safe GETs. See the module docstring.

    Each thread has an ``httpx.Client`` of its own (its own connection pool): one pool shared
    by many threads makes them queue for its lock on every request and every close, which
    cost more than the requests themselves on a fast network. The per-host limit
    (``max_per_host``) is shared by all of them.

    ``verify``: TLS verification as httpx takes it (a CA bundle path or an SSLContext for a
    private CA); ``transport`` replaces the guarded transport (the address check then runs
    before connecting instead, and per-read deadlines are the transport's business), and its
    one client is shared by every thread.
    """

    def __init__(self, settings: FetchSettings | None = None,
                 transport: httpx.BaseTransport | None = None, *,
                 allow_hosts: set[str] | frozenset[str] | None = None,
                 verify: ssl.SSLContext | str | bool = True):
        self.settings = settings or FetchSettings()
        self.allow_hosts = frozenset(h.lower() for h in (allow_hosts or ()))
        self._hosts = netguard.HostSlots(self.settings.max_per_host)
        self._verify = verify
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()
        self._shared: httpx.Client | None = None
        self._spare: list[httpx.Client] = []
        if transport is not None:
            self._guarded = False
            self._shared = self._new_client(transport)
        else:
            # False for an httpx/httpcore we do not know: _check_url then checks before connecting
            first = self._guarded_transport()
            self._spare.append(self._new_client(first[0]))
            self._guarded = first[1]

    def _guarded_transport(self) -> tuple[httpx.HTTPTransport, bool]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        transport = httpx.HTTPTransport(limits=limits, verify=self._verify)
        guarded = netguard.install_guard(transport, self.settings.allow_private_addresses,
                                         self.allow_hosts)
        return transport, guarded

    def _new_client(self, transport: httpx.BaseTransport) -> httpx.Client:
        client = httpx.Client(
            transport=transport, follow_redirects=False, trust_env=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": self.settings.user_agent,
                     "Accept-Encoding": "gzip, deflate"},
        )
        with self._lock:
            self._clients.append(client)
        return client

    @property
    def _client(self) -> httpx.Client:
        """This thread's client (the shared one, with a given transport)."""
        if self._shared is not None:
            return self._shared
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            with self._lock:
                client = self._spare.pop() if self._spare else None
            if client is None:
                client = self._new_client(self._guarded_transport()[0])
            self._local.client = client
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None, allowed_types: tuple[str, ...] | None = None,
            ) -> FetchResult:
        """GET ``url`` following redirects by hand. Never raises for network/HTTP problems."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        try:
            with self._hosts.slot(host, 4 * self.settings.timeout):
                return self._get(url, etag, last_modified, accept, allowed_types)
        except netguard.HostBusy as exc:
            return self._result(url, FetchStatus.TIMEOUT, None, b"", {}, str(exc),
                                time.monotonic())

    def _get(self, url: str, etag: str | None, last_modified: str | None, accept: str | None,
             allowed_types: tuple[str, ...] | None) -> FetchResult:
        s = self.settings
        start = time.monotonic()
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, code, resp_headers = url, None, {}
        seen: list[str] = []
        try:
            with netguard.request_deadline(start + s.timeout):
                while True:
                    self._check_url(current, hop=len(seen))
                    seen.append(current)
                    timeout = httpx.Timeout(s.timeout, connect=min(s.connect_timeout, s.timeout))
                    with self._client.stream("GET", current, headers=headers,
                                             timeout=timeout) as resp:
                        code = resp.status_code
                        resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                        location = resp.headers.get("location")
                        if code in REDIRECT_CODES and location:
                            current = self._next_hop(current, location, seen)
                            _drain(resp)
                            continue
                        kind, error, retry_after = classify(code, resp_headers, settings=s)
                        if kind != FetchStatus.OK:
                            _drain(resp)
                            return self._result(current, kind, code, b"", resp_headers, error,
                                                start, retry_after)
                        _check_type(resp_headers.get("content-type"), allowed_types, None)
                        body = self._read_body(resp)
                        _check_type(resp_headers.get("content-type"), allowed_types, body)
                        return self._result(current, FetchStatus.OK, code, body, resp_headers,
                                            None, start)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified value
            kind, error, _ = classify(exc, settings=s)
            if kind == FetchStatus.BLOCKED_ADDRESS and len(seen) > 1:
                error = f"redirect to {error}"
            return self._result(current, kind, code, b"", resp_headers, error, start)

    def _check_url(self, url: str, hop: int) -> None:
        kind = FetchStatus.BAD_REDIRECT if hop else FetchStatus.BAD_URL
        prefix = f"redirect to {url} refused: " if hop else ""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchProblem(kind, f"{prefix}invalid URL {url!r}: {exc}") from exc
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchProblem(kind, f"{prefix}scheme {parts.scheme or '(none)'!r} is not http(s)")
        if not parts.hostname:
            raise FetchProblem(kind, f"{prefix}no host in URL {url!r}")
        if self._guarded or self.settings.allow_private_addresses:
            return  # the guarded backend checks the address when it connects
        port = port or (443 if parts.scheme.lower() == "https" else 80)
        if f"{parts.hostname}:{port}" not in self.allow_hosts:
            netguard.check_host(parts.hostname, port, self.settings.connect_timeout)

    def _next_hop(self, current: str, location: str, seen: list[str]) -> str:
        target = urljoin(current, location.strip())
        if target in seen:
            raise FetchProblem(FetchStatus.TOO_MANY_REDIRECTS,
                               f"redirect loop: {' -> '.join([*seen, target])}")
        if len(seen) > self.settings.max_redirects:
            raise FetchProblem(FetchStatus.TOO_MANY_REDIRECTS,
                               f"more than {self.settings.max_redirects} redirects "
                               f"(last: {target})")
        return target

    def _read_body(self, resp: httpx.Response) -> bytes:
        s = self.settings
        cap = s.max_bytes
        codings = content_codings(resp.headers.get("content-encoding", ""))
        unknown = [c for c in codings if c not in DECODABLE]
        if unknown or len(codings) > MAX_CODINGS:
            what = (f"content encoding {', '.join(unknown)} is not supported" if unknown else
                    f"{len(codings)} stacked content encodings (at most {MAX_CODINGS})")
            raise FetchProblem(FetchStatus.UNSUPPORTED_ENCODING,
                               f"{what}; only gzip and deflate are decoded")
        after = " after decompression" if codings else ""
        declared = resp.headers.get("content-length", "")
        if not after and declared.isdigit() and int(declared) > cap:
            raise FetchProblem(FetchStatus.TOO_LARGE,
                               f"Content-Length {declared} exceeds {cap} bytes")
        stream: Iterator[bytes]
        if resp.is_stream_consumed:  # built in memory by a test transport, decoded by httpx
            stream, codings = iter([resp.content]), []
        else:
            stream = resp.iter_raw()
        for step, coding in enumerate(reversed(codings), 1):  # the last applied comes off first
            label = f" ({coding}, step {step} of {len(codings)})" if len(codings) > 1 else ""
            stream = _inflate(stream, coding, cap, label)
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in stream:
                total += len(chunk)
                if total > cap:
                    raise FetchProblem(FetchStatus.TOO_LARGE, f"body exceeds {cap} bytes{after}")
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FetchProblem(FetchStatus.TIMEOUT,
                               f"body not complete within {_n(s.timeout)}s") from exc
        return b"".join(chunks)

    def _result(self, url: str, kind: FetchStatus, code: int | None, body: bytes,
                headers: dict[str, str], error: str | None, start: float,
                retry_after: float | None = None) -> FetchResult:
        return FetchResult(url=url, status=kind.value, http_status=code, body=body,
                           headers=headers, content_type=headers.get("content-type"),
                           retry_after=retry_after, error=error,
                           elapsed=time.monotonic() - start)


DECODABLE = frozenset({"gzip", "x-gzip", "deflate"})
MAX_CODINGS = 4  # stacked Content-Encodings decoded at most
STEP = 65536  # most bytes one decoding step hands on at a time


DRAIN_MAX = 64 * 1024  # bytes of an unwanted body read so that its connection can be reused


def _drain(resp: httpx.Response) -> None:
    """Read (and drop) a small unwanted body (a 404 page, a redirect's): a connection whose
    response was not read to its end is closed, and the next request to the host would pay
    for a new one. A body over ``DRAIN_MAX`` is left: its connection is closed instead."""
    if resp.is_stream_consumed:
        return
    read = 0
    try:
        for chunk in resp.iter_raw():
            read += len(chunk)
            if read > DRAIN_MAX:
                return
    except Exception:  # noqa: BLE001 - only an optimisation: the connection is closed instead
        return


def content_codings(header: str) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied."""
    out = []
    for part in header.split(","):
        coding = part.strip().lower()
        if coding and coding != "identity":
            out.append(coding)
    return out


def _inflate(chunks: Iterator[bytes], coding: str, cap: int, label: str) -> Iterator[bytes]:
    """Undo one gzip/deflate coding of a stream, ``STEP`` bytes at a time at most; more than
    ``cap`` bytes out is TOO_LARGE, whatever the steps after it would make of them.
    ``label`` (" (gzip, step 1 of 2)" or "") goes into the error."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    first = True
    total = 0
    for raw in chunks:
        data = raw
        while data:
            try:
                out = inflater.decompress(data, STEP)
            except zlib.error as exc:
                if first and coding == "deflate":  # raw deflate without a zlib header
                    inflater, first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise httpx.DecodingError(f"{coding}{label}: {exc}") from exc
            first = False
            total += len(out)
            if total > cap:
                raise FetchProblem(FetchStatus.TOO_LARGE,
                                   f"body exceeds {cap} bytes after decompression{label}")
            if out:
                yield out
            data = inflater.unconsumed_tail
            if inflater.eof:  # concatenated gzip members; other trailing bytes are ignored
                data = inflater.unused_data if inflater.unused_data[:2] == b"\x1f\x8b" else b""
                if data:
                    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
    tail = inflater.flush()  # what the last input still held back (a few bytes at most)
    if total + len(tail) > cap:
        raise FetchProblem(FetchStatus.TOO_LARGE,
                           f"body exceeds {cap} bytes after decompression{label}")
    if tail:
        yield tail


def _check_type(content_type: str | None, allowed: tuple[str, ...] | None,
                body: bytes | None) -> None:
    if not allowed:
        return
    media = _media_type(content_type)
    if media is None:
        if body is None:
            return  # decide once the body's first bytes are known
        for magic, sniffed in _BINARY_MAGIC.items():
            if body.startswith(magic):
                raise FetchProblem(FetchStatus.BAD_CONTENT_TYPE, f"content looks like {sniffed}, "
                                   f"wanted {' or '.join(allowed)}")
        return
    if body is not None:
        return  # already checked on the header
    for want in allowed:
        if media == want or (want.endswith("/*") and media.startswith(want[:-1])):
            return
    raise FetchProblem(FetchStatus.BAD_CONTENT_TYPE,
                       f"content type {media}, wanted {' or '.join(allowed)}")
