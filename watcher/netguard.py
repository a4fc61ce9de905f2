"""Where a fetch may connect, and for how long it may wait: the network side of ``watcher.fetch``.

The threat is server-side request forgery. Feed URLs, article links and every ``Location``
header on the way are chosen by whoever runs the feed, not by us, so a URL can point at
``127.0.0.1``, at a cloud metadata service (``169.254.169.254``), or at anything else on the
private network this service runs in. Checking the URL's host name is not enough: with DNS
rebinding a name resolves to a public address when it is checked and to a private one a moment
later when the connection is made.

What this module guarantees, for a transport set up with ``install_guard``:

* every TCP connection goes to an address that was checked in the same step: the host is
  resolved once, *all* its addresses must pass ``address_problem``, and the socket is opened to
  those literal addresses, never by name again. Redirect hops and new pooled connections all go
  through this; a kept-alive connection is reused only for the origin it was checked for. TLS
  still verifies the certificate against the host *name* (httpcore passes it separately);
* an address is refused when it is loopback, private, link-local, multicast, reserved,
  unspecified or otherwise not global, including an IPv4 address embedded in IPv6
  (IPv4-mapped, 6to4, Teredo, NAT64 ``64:ff9b::/96``);
* a DNS lookup waits at most for the connect timeout (``getaddrinfo`` has no timeout of its
  own; it runs in a helper thread);
* inside ``request_deadline``, every connect, read, write and TLS handshake waits only for what
  is left of the whole request's time, so a server trickling a byte at a time cannot stretch a
  request past its deadline.

What it does not do: ``allow_private`` turns the address check off, and ``allow_hosts`` exempts
exact ``host:port`` origins (tests serve a first hop from 127.0.0.1; never use it in
configuration). When ``install_guard`` cannot hook the transport (an httpcore it does not know,
or a transport supplied by the caller), ``check_host`` must be called before connecting instead,
which leaves a window for DNS rebinding between check and connect.

Refusals are raised as ``AddressRefused`` and ``LookupFailed``; ``watcher.fetch.classify`` turns
them into ``blocked_address`` and ``dns_error``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

__all__ = [
    "AddressRefused", "GuardedBackend", "LookupFailed", "address_problem", "check_host",
    "install_guard", "request_deadline",
]


class AddressRefused(Exception):
    """The host is, or resolves to, an address that must not be fetched."""


class LookupFailed(Exception):
    """The host name did not resolve, or not within the time allowed."""


# -- address checks ----------------------------------------------------------------------------

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CHECKS = (("is_unspecified", "unspecified address"), ("is_loopback", "loopback address"),
           ("is_link_local", "link-local address"), ("is_multicast", "multicast address"),
           ("is_reserved", "reserved address"), ("is_private", "private address"))


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address must not be fetched, or None when it is an ordinary global address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"{problem} (embedded in IPv6)" if problem else None
    for attr, reason in _CHECKS:
        if getattr(ip, attr):
            return reason
    if not ip.is_global:
        return "non-global address"
    return None


def check_host(host: str, port: int, timeout: float | None = None) -> list[str]:
    """Resolve ``host`` (within ``timeout``) and return its addresses, all of them global.

    Raises AddressRefused if any address is not global ("<host> refused: <reason>"), and
    LookupFailed if the name does not resolve in time.
    """
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = _resolve(host, port, timeout)
    for addr in addresses:
        problem = address_problem(ipaddress.ip_address(addr.split("%", 1)[0]))
        if problem:
            shown = host if host == addr else f"{host} ({addr})"
            raise AddressRefused(f"{shown} refused: {problem}")
    return addresses


_DNS_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fetch-dns")


def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """getaddrinfo has no timeout of its own: run it in a helper thread and stop waiting."""
    future = _DNS_POOL.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout)
    except FutureTimeout:
        raise LookupFailed(f"DNS lookup for {host} took longer than {timeout or 0:g}s") from None
    except (OSError, UnicodeError) as exc:
        raise LookupFailed(f"DNS lookup failed for {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# -- the whole-request deadline ----------------------------------------------------------------

_deadline = threading.local()  # .at: monotonic deadline of the request running in this thread


@contextmanager
def request_deadline(at: float) -> Iterator[None]:
    """Within the block, this thread's connections give up at ``at`` (``time.monotonic()``)."""
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = None


def _remaining(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline (ReadTimeout if none)."""
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("whole-request deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the request's deadline.

    A server trickling a byte at a time (headers or body) cannot stretch a request past
    its deadline: each read may wait only for what is left.
    """

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                     _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


# -- the connection backend --------------------------------------------------------------------


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses that passed ``check_host``, checked when connecting."""

    def __init__(self, allow_private: bool, allow_hosts: frozenset[str]):
        self.allow_private, self.allow_hosts = allow_private, allow_hosts

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None,
                    ) -> httpcore.NetworkStream:
        timeout = _remaining(timeout)
        if self.allow_private or f"{host}:{port}" in self.allow_hosts:
            addresses = [host]
        else:
            addresses = check_host(host, port, timeout)
        last: Exception | None = None
        for addr in addresses:  # like socket.create_connection: the first that answers
            try:
                stream = super().connect_tcp(addr, port, _remaining(timeout), local_address,
                                             socket_options)
                return DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


def install_guard(transport: httpx.HTTPTransport, allow_private: bool,
                  allow_hosts: frozenset[str]) -> bool:
    """Make ``transport`` connect through a ``GuardedBackend``; False if it cannot be hooked.

    When this returns False the caller must ``check_host`` before each request itself.
    """
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = GuardedBackend(allow_private, allow_hosts)
        return True
    return False  # pragma: no cover - an httpx/httpcore we do not know
