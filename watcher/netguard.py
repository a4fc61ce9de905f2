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
* an address is refused when it lies in one of the ranges of ``DENIED`` (below): an explicit
  table of the IANA IPv4 and IPv6 special-purpose address registries (loopback, private,
  shared, link-local, documentation, benchmarking, protocol assignments such as 192.0.0.0/24,
  AS112, AMT...), multicast, reserved and deprecated ranges (site-local ``fec0::/10``), and
  every IPv6 address outside global unicast ``2000::/3``. The table does not depend on the
  Python version (``ipaddress``'s ``is_private``/``is_global`` change between releases). An
  IPv4 address embedded in IPv6 (IPv4-mapped, IPv4-compatible, 6to4, NAT64 ``64:ff9b::/96``)
  is judged as that IPv4 address; Teredo (``2001::/32``) is refused with the rest of
  ``2001::/23``;
* a DNS lookup waits at most for the connect timeout (``getaddrinfo`` has no timeout of its
  own; it runs in a helper thread);
* inside ``request_deadline``, every connect, read, write and TLS handshake waits only for what
  is left of the whole request's time, so a server trickling a byte at a time cannot stretch a
  request past its deadline;
* ``HostSlots`` lets only a few requests go to one host name at a time, so a feed listing
  thousands of links to one site cannot turn the service into a flood against it.

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
    "AddressRefused", "GuardedBackend", "HostBusy", "HostSlots", "LookupFailed",
    "address_problem", "check_host", "install_guard", "request_deadline",
]


class AddressRefused(Exception):
    """The host is, or resolves to, an address that must not be fetched."""


class LookupFailed(Exception):
    """The host name did not resolve, or not within the time allowed."""


class HostBusy(Exception):
    """No request slot for the host came free within the time allowed."""


# -- address checks ----------------------------------------------------------------------------

# The denylist: (network, reason), most specific first when ranges nest. Sources: the IANA
# IPv4 and IPv6 Special-Purpose Address Registries, the multicast registries, and the IPv6
# address space registry (everything outside 2000::/3 is reserved, unique-local or link-local).
_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/32", "unspecified address"),
    ("0.0.0.0/8", "private address"),  # "this network" (RFC 791)
    ("10.0.0.0/8", "private address"),  # RFC 1918
    ("100.64.0.0/10", "non-global address"),  # shared address space, carrier NAT (RFC 6598)
    ("127.0.0.0/8", "loopback address"),
    ("169.254.0.0/16", "link-local address"),  # and cloud metadata services (RFC 3927)
    ("172.16.0.0/12", "private address"),  # RFC 1918
    ("192.0.0.0/24", "private address"),  # IETF protocol assignments (RFC 6890), 192.0.0.192
    ("192.0.2.0/24", "private address"),  # TEST-NET-1 (RFC 5737)
    ("192.31.196.0/24", "non-global address"),  # AS112-v4 (RFC 7535)
    ("192.52.193.0/24", "non-global address"),  # AMT (RFC 7450)
    ("192.88.99.0/24", "non-global address"),  # 6to4 relay anycast, deprecated (RFC 7526)
    ("192.168.0.0/16", "private address"),  # RFC 1918
    ("192.175.48.0/24", "non-global address"),  # AS112 direct delegation (RFC 7534)
    ("198.18.0.0/15", "private address"),  # benchmarking (RFC 2544)
    ("198.51.100.0/24", "private address"),  # TEST-NET-2 (RFC 5737)
    ("203.0.113.0/24", "private address"),  # TEST-NET-3 (RFC 5737)
    ("224.0.0.0/4", "multicast address"),
    ("255.255.255.255/32", "reserved address"),  # limited broadcast
    ("240.0.0.0/4", "reserved address"),  # RFC 1112
)
_V6: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified address"),
    ("::1/128", "loopback address"),
    ("64:ff9b:1::/48", "non-global address"),  # local-use IPv4/IPv6 translation (RFC 8215)
    ("100::/64", "non-global address"),  # discard-only (RFC 6666)
    ("2001::/23", "non-global address"),  # IETF protocol assignments, Teredo (RFC 2928, 4380)
    ("2001:db8::/32", "non-global address"),  # documentation (RFC 3849)
    ("2620:4f:8000::/48", "non-global address"),  # AS112 direct delegation (RFC 7534)
    ("3fff::/20", "non-global address"),  # documentation (RFC 9637)
    ("fc00::/7", "private address"),  # unique-local (RFC 4193)
    ("fe80::/10", "link-local address"),
    ("fec0::/10", "private address"),  # site-local, deprecated (RFC 3879)
    ("ff00::/8", "multicast address"),
)
DENIED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason) for net, reason in (*_V4, *_V6))
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # IPv4-compatible, deprecated (RFC 4291)
_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")


def _embedded(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4)."""
    if ip in _MAPPED or ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIXTOFOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address must not be fetched, or None when it is an ordinary global address.

    Decided by the explicit table ``DENIED`` alone, so the answer is the same on every
    Python version.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(int(ip))  # "fe80::1%eth0": the address without its zone
        embedded = _embedded(ip)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"{problem} (embedded in IPv6)" if problem else None
    for net, reason in DENIED:
        if ip.version == net.version and ip in net:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST:
        return "reserved address"
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


# -- requests per host -------------------------------------------------------------------------


class HostSlots:
    """At most ``limit`` requests to one host name at a time, across the threads sharing it."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._cond = threading.Condition()
        self._busy: dict[str, int] = {}  # host -> requests running (hosts at 0 are dropped)

    @contextmanager
    def slot(self, host: str, timeout: float) -> Iterator[None]:
        """Hold one of ``host``'s slots for the block; HostBusy after ``timeout`` seconds."""
        host = host.lower()
        with self._cond:
            if not self._cond.wait_for(lambda: self._busy.get(host, 0) < self.limit, timeout):
                raise HostBusy(f"no free slot for {host} within {timeout:g}s "
                               f"({self.limit} requests at a time per host)")
            self._busy[host] = self._busy.get(host, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                left = self._busy[host] - 1
                if left:
                    self._busy[host] = left
                else:
                    del self._busy[host]
                self._cond.notify_all()


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
