"""A real HTTP server on 127.0.0.1 for tests: a routing table of path -> reply.

    from tests.httpserver import Reply, http_server  # noqa: F401  (the fixture)

    def test_x(http_server):
        http_server.route("/feed", Reply(body=b"<rss/>", content_type="application/rss+xml",
                                         etag='"v1"'))
        url = http_server.url("/feed")

A route is either a ``Reply`` (static; ETag / Last-Modified conditional requests are answered
with 304 automatically) or a callable ``fn(req: Request) -> Reply | None``. A callable that
returns None has written the response itself through ``req.handler`` (for slow, endless or
malformed responses); it should stop when ``req.server.stopping`` is set. Unknown paths get 404.
Every request is recorded in ``server.requests``. ``server.host_port`` is ``"127.0.0.1:PORT"``
(what ``Fetcher(allow_hosts=...)`` takes). ``serve(tls=(certfile, keyfile))`` serves HTTPS.
Handler threads are daemons, so a test that leaves a handler sleeping does not hang the run.
Helpers for hostile servers: ``trickle`` (a byte at a time, forever), ``endless`` (an infinite
fast body), ``sleepy`` (no answer at all).
"""

from __future__ import annotations

import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import pytest

__all__ = ["Reply", "Request", "TestHTTPServer", "endless", "http_server", "serve", "sleepy",
           "trickle"]


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the status line
    chunk_delay: float = 0.0  # seconds between body chunks (iterable bodies)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case keys
    handler: BaseHTTPRequestHandler
    server: TestHTTPServer


Route = Reply | Callable[[Request], "Reply | None"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body in two writes cost a 40 ms ACK delay
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        req = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, self,
                      owner)
        with owner.lock:
            owner.requests.append(req)
        route = owner.routes.get(self.path) or owner.routes.get(self.path.split("?", 1)[0])
        try:
            if route is None:
                reply: Reply | None = Reply(404, b"not found", "text/plain")
            elif isinstance(route, Reply):
                reply = route
            else:
                reply = route(req)
            if reply is not None:
                self._send(req, reply)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def _send(self, req: Request, reply: Reply) -> None:
        if reply.delay and req.server.stopping.wait(reply.delay):
            return
        inm, ims = req.headers.get("if-none-match"), req.headers.get("if-modified-since")
        if reply.status == 200 and ((reply.etag and inm == reply.etag) or
                                    (reply.last_modified and not inm
                                     and ims == reply.last_modified)):
            self.send_response(304)
            self._validators(reply)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self._validators(reply)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if isinstance(reply.body, (bytes, bytearray)):
            if "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Connection", "close")  # close-delimited body
        self.end_headers()
        self.close_connection = True
        for chunk in reply.body:
            if req.server.stopping.is_set():
                return
            self.wfile.write(chunk)
            self.wfile.flush()
            if reply.chunk_delay and req.server.stopping.wait(reply.chunk_delay):
                return

    def _validators(self, reply: Reply) -> None:
        if reply.etag:
            self.send_header("ETag", reply.etag)
        if reply.last_modified:
            self.send_header("Last-Modified", reply.last_modified)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    owner: TestHTTPServer

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client hung up (a test that stopped reading): expected
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class TestHTTPServer:
    __test__ = False  # not a pytest test class

    def __init__(self, routes: dict[str, Route] | None = None,
                 tls: tuple[str, str] | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.scheme = "http"
        if tls:  # (certfile, keyfile): serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, route: Route) -> str:
        """Add (or replace) a route; returns its URL."""
        self.routes[path] = route
        return self.url(path)

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> TestHTTPServer:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(routes: dict[str, Route] | None = None,
          tls: tuple[str, str] | None = None) -> TestHTTPServer:
    """A started server (use as a context manager, or call ``stop()``); HTTPS with ``tls``."""
    return TestHTTPServer(routes, tls).start()


@pytest.fixture
def http_server() -> Iterator[TestHTTPServer]:
    with serve() as server:
        yield server


def trickle(chunk: bytes = b"x", every: float = 0.2) -> Callable[[Request], None]:
    """A route that sends headers, then ``chunk`` every ``every`` seconds until stopped."""

    def route(req: Request) -> None:
        h = req.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        while not req.server.stopping.wait(every):
            h.wfile.write(chunk)
            h.wfile.flush()
    return route


def endless(chunk: bytes = b"a" * 65536) -> Iterator[bytes]:
    while True:
        yield chunk


def sleepy(seconds: float) -> Callable[[Request], None]:
    """A route that waits ``seconds`` (or until the server stops) before answering at all."""

    def route(req: Request) -> None:
        req.server.stopping.wait(seconds)
    return route


