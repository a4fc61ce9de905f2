"""Fetcher against real HTTP servers on 127.0.0.1.

The Fetcher runs with ``allow_private_addresses=False`` (the production setting) and
``allow_hosts={server.host_port}``: the test server's own origin is exempt, every other
loopback/private/link-local target (a redirect to ``localhost:PORT`` or to 169.254.169.254)
is refused as in production.
"""

from __future__ import annotations

import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from tests.httpserver import Reply, endless, serve, sleepy, trickle
from watcher.fetch import PAGE_ACCEPT, PAGE_TYPES, Fetcher, FetchStatus, address_problem, classify
from watcher.pagetext import extract_article
from watcher.parse import parse_feed
from watcher.settings import FetchSettings

PAGES = Path(__file__).parent / "fixtures" / "pages"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def make(server, **kw) -> Fetcher:
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("timeout", 5.0)
    return Fetcher(FetchSettings(allow_private_addresses=False, **kw),
                   allow_hosts={server.host_port})


def get_page(fetcher: Fetcher, url: str):
    return fetcher.get(url, accept=PAGE_ACCEPT, allowed_types=PAGE_TYPES)


def test_ok_page(http_server):
    body = (PAGES / "article.html").read_bytes()
    url = http_server.route("/a", Reply(body=body, headers={"X-Thing": "1"}))
    with make(http_server) as f:
        r = get_page(f, url)
    assert r.ok and r.status == "ok" and r.http_status == 200
    assert r.body == body and r.url == url and r.error is None
    assert r.headers["x-thing"] == "1" and r.media_type == "text/html" and r.charset == "utf-8"
    assert http_server.requests[0].headers["user-agent"].startswith("watcher/")


def test_conditional_get_gives_not_modified(http_server):
    url = http_server.route("/feed", Reply(body=b"<rss/>", etag='"v1"',
                                          last_modified="Mon, 01 Jan 2024 00:00:00 GMT"))
    with make(http_server) as f:
        first = f.get(url)
        again = f.get(url, etag=first.headers["etag"])
        by_date = f.get(url, last_modified=first.headers["last-modified"])
    assert first.ok
    assert again.status == FetchStatus.NOT_MODIFIED and again.http_status == 304 and not again.ok
    assert by_date.status == "not_modified"
    assert http_server.requests[1].headers["if-none-match"] == '"v1"'


def test_slow_headers_time_out(http_server):
    url = http_server.route("/slow", sleepy(30))
    with make(http_server, timeout=1.0) as f:
        r = f.get(url)
    assert r.status == "timeout" and "1s" in r.error
    assert r.elapsed < 10  # a guard against a hang, not a performance assertion


def test_trickling_body_stops_at_whole_request_timeout(http_server):
    url = http_server.route("/trickle", trickle(b"<p>x</p>", every=0.05))
    with make(http_server, timeout=1.0) as f:
        r = f.get(url)
    assert r.status == "timeout" and "body" in r.error and r.body == b""
    assert r.elapsed < 10


def test_trickling_headers_stop_at_whole_request_timeout(http_server):
    def drip(req):
        w = req.handler.wfile
        w.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while not req.server.stopping.wait(0.05):
            w.write(b"a")
            w.flush()
    url = http_server.route("/drip", drip)
    with make(http_server, timeout=1.0) as f:
        r = f.get(url)
    assert r.status == "timeout" and r.http_status is None
    assert r.elapsed < 10


def test_endless_fast_body_is_too_large(http_server):
    url = http_server.route("/endless", Reply(body=endless()))
    with make(http_server, max_bytes=1_000_000) as f:
        r = f.get(url)
    assert r.status == "too_large" and "1000000" in r.error


def test_gzip_bomb_counts_after_decompression(http_server):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    url = http_server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with make(http_server, max_bytes=5_000_000) as f:
        r = f.get(url)
    assert r.status == "too_large"
    assert r.error == "body exceeds 5000000 bytes after decompression"


def test_gzip_and_deflate_bodies_are_decoded(http_server):
    text = b"<html><body>" + b"hello " * 1000 + b"</body></html>"
    urls = [http_server.route("/gz", Reply(body=gzip.compress(text),
                                           headers={"Content-Encoding": "gzip"})),
            http_server.route("/zl", Reply(body=zlib.compress(text),
                                           headers={"Content-Encoding": "deflate"})),
            http_server.route("/raw", Reply(body=zlib.compress(text)[2:-4],
                                            headers={"Content-Encoding": "deflate"}))]
    with make(http_server) as f:
        for url in urls:
            r = f.get(url)
            assert r.ok and r.body == text, url


def test_corrupt_gzip_is_a_server_error(http_server):
    url = http_server.route("/bad", Reply(body=b"not gzip at all",
                                          headers={"Content-Encoding": "gzip"}))
    with make(http_server) as f:
        r = f.get(url)
    assert r.status == "server_error" and "decoded" in r.error


def test_redirects_are_followed_and_loops_stop(http_server):
    http_server.route("/r1", Reply(302, headers={"Location": "/r2"}))
    http_server.route("/r2", Reply(301, headers={"Location": http_server.url("/final")}))
    http_server.route("/final", Reply(body=b"<p>done</p>"))
    http_server.route("/loop1", Reply(302, headers={"Location": "/loop2"}))
    http_server.route("/loop2", Reply(302, headers={"Location": "/loop1"}))
    for i in range(10):
        http_server.route(f"/chain{i}", Reply(302, headers={"Location": f"/chain{i + 1}"}))
    with make(http_server, max_redirects=5) as f:
        ok = f.get(http_server.url("/r1"))
        loop = f.get(http_server.url("/loop1"))
        chain = f.get(http_server.url("/chain0"))
    assert ok.ok and ok.url == http_server.url("/final") and ok.body == b"<p>done</p>"
    assert loop.status == "too_many_redirects" and "loop" in loop.error
    assert chain.status == "too_many_redirects" and "more than 5" in chain.error
    assert http_server.hits("/chain6") == 0


@pytest.mark.parametrize("target, reason", [
    ("http://localhost:{port}/secret", "loopback address"),
    ("http://127.0.0.1:1/secret", "loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "link-local address"),
    ("http://10.0.0.1/", "private address"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback address (embedded in IPv6)"),
    ("http://0.0.0.0:{port}/", "unspecified address"),
])
def test_redirect_to_private_address_is_blocked(http_server, target, reason):
    target = target.format(port=http_server.port)
    http_server.route("/go", Reply(302, headers={"Location": target}))
    with make(http_server) as f:
        r = f.get(http_server.url("/go"))
    assert r.status == FetchStatus.BLOCKED_ADDRESS
    assert r.error.startswith("redirect to ") and r.error.endswith(f"refused: {reason}")
    assert http_server.hits("/secret") == 0


def test_metadata_address_message(http_server):
    http_server.route("/md", Reply(302, headers={"Location": "http://169.254.169.254/x"}))
    with make(http_server) as f:
        r = f.get(http_server.url("/md"))
    assert r.error == "redirect to 169.254.169.254 refused: link-local address"


def test_first_hop_private_is_blocked_without_allow_hosts(http_server):
    url = http_server.route("/p", Reply(body=b"secret"))
    with Fetcher(FetchSettings(allow_private_addresses=False)) as f:
        r = f.get(url)
    assert r.status == "blocked_address" and r.error == "127.0.0.1 refused: loopback address"
    assert http_server.hits("/p") == 0
    with Fetcher(FetchSettings(allow_private_addresses=True)) as f:
        assert f.get(url).ok


def test_non_http_schemes_and_bad_urls(http_server):
    http_server.route("/ftp", Reply(302, headers={"Location": "file:///etc/passwd"}))
    with make(http_server) as f:
        assert f.get("file:///etc/passwd").status == "bad_url"
        assert f.get("ftp://example.com/x").status == "bad_url"
        assert f.get("http:///nohost").status == "bad_url"
        assert f.get("http://[::1/").status == "bad_url"
        r = f.get(http_server.url("/ftp"))
    assert r.status == "bad_redirect" and "file" in r.error


def test_pdf_behind_html_link_is_bad_content_type(http_server):
    url = http_server.route("/paper", Reply(body=b"%PDF-1.7\n...", content_type="application/pdf"))
    bare = http_server.route("/bare", Reply(body=b"%PDF-1.4 no type", content_type=None))
    with make(http_server) as f:
        r = get_page(f, url)
        sniffed = get_page(f, bare)
        any_type = f.get(url)
    assert r.status == "bad_content_type" and "application/pdf" in r.error
    assert sniffed.status == "bad_content_type"
    assert any_type.ok  # no allowed_types: anything goes (feeds)


def test_three_megabyte_page_against_two_caps(http_server):
    big = b"<html><body>" + b"<p>word word word</p>\n" * 140_000 + b"</body></html>"
    assert 3_000_000 < len(big) < 3_300_000
    url = http_server.route("/big", Reply(body=big))
    with make(http_server, max_bytes=5_000_000) as f:
        assert get_page(f, url).body == big
    with make(http_server, max_bytes=1_000_000) as f:
        r = get_page(f, url)
    assert r.status == "too_large" and "Content-Length" in r.error


def test_binary_junk_page_and_feed(http_server):
    junk = bytes(range(256)) * 64
    url = http_server.route("/junk", Reply(body=junk, content_type="text/html"))
    with make(http_server) as f:
        r = get_page(f, url)
    assert r.ok
    assert extract_article(r.body, r.url) is None  # no text in it, and no exception
    parsed = parse_feed(r.body, r.headers, r.url)
    assert parsed.status == "not_a_feed"


def test_invalid_utf8_page_extracts(http_server):
    body = (PAGES / "invalid-utf8.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    url = http_server.route("/bad-utf8", Reply(body=body, content_type="text/html; charset=utf-8"))
    with make(http_server) as f:
        r = get_page(f, url)
    article = extract_article(r.body, r.url, content_type=r.content_type)
    assert article is not None and "harbour authority" in article.text


def test_feed_that_turned_into_html_page(http_server):
    url = http_server.route("/feed.xml", Reply(body=(PAGES / "article.html").read_bytes()))
    with make(http_server) as f:
        r = f.get(url)
    parsed = parse_feed(r.body, r.headers, r.url)
    assert r.ok and parsed.status == "not_a_feed" and "HTML page" in parsed.error


@pytest.mark.parametrize("status, kind", [(404, "not_found"), (410, "gone"), (400, "client_error"),
                                          (403, "client_error"), (500, "server_error"),
                                          (503, "server_error")])
def test_http_errors(http_server, status, kind):
    url = http_server.route("/e", Reply(status, b"nope", "text/plain"))
    with make(http_server) as f:
        r = f.get(url)
    assert r.status == kind and r.http_status == status and str(status) in r.error


def test_rate_limited_with_retry_after(http_server):
    http_server.route("/429", Reply(429, b"slow down", headers={"Retry-After": "7"}))
    http_server.route("/503", Reply(503, b"later", headers={"Retry-After": "120"}))
    http_server.route("/date", Reply(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    with make(http_server) as f:
        r429, r503, past = f.get(http_server.url("/429")), f.get(http_server.url("/503")), \
            f.get(http_server.url("/date"))
    assert r429.status == "rate_limited" and r429.retry_after == 7.0
    assert r503.status == "rate_limited" and r503.retry_after == 120.0
    assert past.status == "rate_limited" and past.retry_after == 0.0


def test_connection_refused():
    with socket.socket() as s:  # a port nobody listens on: bind, then close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Fetcher(FetchSettings(connect_timeout=2), allow_hosts={f"127.0.0.1:{port}"}) as f:
        r = f.get(f"http://127.0.0.1:{port}/")
    assert r.status == "connection_error" and r.error == "connection refused"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl not found: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_https_verified_and_bounded(certificate):
    with serve(tls=certificate) as server:
        url = server.route("/a", Reply(body=b"<p>secure</p>"))
        slow = server.route("/drip", trickle(b"x", every=0.05))
        with make(server) as f:  # system trust store: the self-signed certificate is refused
            refused = f.get(url)
        with Fetcher(FetchSettings(timeout=1.0), allow_hosts={server.host_port},
                     verify=ssl.create_default_context(cafile=certificate[0])) as f:
            ok, dripping = f.get(url), f.get(slow)
    assert refused.status == "connection_error" and "TLS error" in refused.error
    assert ok.ok and ok.body == b"<p>secure</p>" and ok.url.startswith("https://")
    assert dripping.status == "timeout" and dripping.elapsed < 10


def test_dns_error():
    with Fetcher(FetchSettings(connect_timeout=2, timeout=5)) as f:
        r = f.get("http://no-such-host.invalid/")
    assert r.status == "dns_error" and "no-such-host.invalid" in r.error


def test_fetcher_is_thread_safe(http_server):
    from concurrent.futures import ThreadPoolExecutor
    for i in range(40):
        http_server.route(f"/t{i}", Reply(body=f"<p>{i}</p>".encode()))
    with make(http_server) as f, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: f.get(http_server.url(f"/t{i}")), range(40)))
    assert [r.body for r in results] == [f"<p>{i}</p>".encode() for i in range(40)]


@pytest.mark.parametrize("address, problem", [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("127.0.0.1", "loopback address"),
    ("10.1.2.3", "private address"), ("192.168.0.1", "private address"),
    ("172.16.0.1", "private address"), ("169.254.169.254", "link-local address"),
    ("100.64.0.1", "non-global address"), ("224.0.0.1", "multicast address"),
    ("0.0.0.0", "unspecified address"), ("240.0.0.1", "reserved address"),
    ("::1", "loopback address"), ("fe80::1", "link-local address"), ("fc00::1", "private address"),
    ("::ffff:169.254.169.254", "link-local address (embedded in IPv6)"),
    ("64:ff9b::a00:1", "private address (embedded in IPv6)"),
])
def test_address_problem(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


def test_classify_is_the_one_mapping():
    assert classify(200).status == "ok"
    assert classify(304).status == "not_modified"
    assert classify(503).status == "server_error"
    assert classify(503, {"retry-after": "30"}) == ("rate_limited",
                                                    "rate limited (HTTP 503, retry after 30s)", 30.0)
    assert classify(429, {"retry-after": "soon"}).retry_after is None
    assert classify(OSError("[Errno 111] Connection refused")).status == "connection_error"
    assert classify(socket.gaierror("Name or service not known")).status == "dns_error"
    assert classify(RuntimeError("boom")).status == "connection_error"


def test_elapsed_is_measured(http_server):
    url = http_server.route("/d", Reply(body=b"x", delay=0.2))
    with make(http_server) as f:
        start = time.monotonic()
        r = f.get(url)
    assert r.ok and 0.15 < r.elapsed <= time.monotonic() - start + 0.01


def test_custom_transport_still_checks_addresses_before_connecting():
    import httpx

    seen = []

    def handler(request):
        seen.append(str(request.url))
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest"})
        return httpx.Response(200, text="metadata")

    with Fetcher(FetchSettings(), transport=httpx.MockTransport(handler)) as f:
        r = f.get("http://93.184.215.14/feed")  # a literal global address: no DNS needed
    assert r.ok and seen == ["http://93.184.215.14/feed"]
    with Fetcher(FetchSettings(), transport=httpx.MockTransport(handler),
                 allow_hosts={"news.example:80"}) as f:
        r = f.get("http://news.example/feed")
    assert r.status == "blocked_address" and "169.254.169.254/latest" not in seen[1:]


def _gzip_stack(data: bytes, times: int) -> bytes:
    for _ in range(times):
        data = gzip.compress(data, compresslevel=9)
    return data


def test_stacked_encodings_are_each_decoded_and_bounded(http_server):
    text = b"<html><body>" + b"stacked " * 500 + b"</body></html>"
    ok = http_server.route("/gzgz", Reply(body=_gzip_stack(text, 2),
                                          headers={"Content-Encoding": "gzip, gzip"}))
    mixed = http_server.route("/mixed", Reply(
        body=gzip.compress(zlib.compress(text)), headers={"Content-Encoding": "deflate, identity, gzip"}))
    bomb = _gzip_stack(b"\0" * 200_000_000, 2)
    assert len(bomb) < 10_000
    big = http_server.route("/bomb2", Reply(body=bomb, headers={"Content-Encoding": "gzip, gzip"}))
    with make(http_server, max_bytes=1_000_000) as f:
        assert f.get(ok).body == text
        assert f.get(mixed).body == text
        r = f.get(big)
    assert r.status == "too_large"
    assert r.error == "body exceeds 1000000 bytes after decompression (gzip, step 2 of 2)"


@pytest.mark.parametrize("header", ["br", "zstd", "gzip, br", "compress", "x-unknown",
                                    "gzip, gzip, gzip, gzip, gzip"])
def test_unknown_or_unbounded_encodings_are_refused(http_server, header):
    url = http_server.route("/enc", Reply(body=b"\x1f\x8b whatever",
                                          headers={"Content-Encoding": header}))
    with make(http_server) as f:
        r = f.get(url)
    assert r.status == "unsupported_encoding" and r.body == b""
    assert "only gzip and deflate are decoded" in r.error


def test_requests_to_one_host_are_limited(http_server):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    lock, running, most = threading.Lock(), [0], [0]

    def slow(req):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return Reply(body=b"<p>x</p>")

    url = http_server.route("/slow", slow)
    with make(http_server, max_per_host=2) as f, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: f.get(url), range(16)))
    assert all(r.ok for r in results)
    assert most[0] == 2
