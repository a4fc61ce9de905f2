"""The /healthz endpoint of `watcher run`: on an IPv6 address, slow clients cut off, and what
it says around a failed start-up."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

from tests.conftest import ROOT, write_config


def _free_v6_port() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("::1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_ipv6_listen_address_and_slow_clients_are_cut_off(tmp_path):
    port = _free_v6_port()
    cfg = write_config(tmp_path, feeds=[],
                       extra=f'[http]\nlisten = "[::1]:{port}"\ntimeout = 1.0')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    log = open(tmp_path / "service.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = _get(port, "/healthz")
                if answer[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert answer == (200, "ok\n"), (answer, (tmp_path / "service.log").read_text())

        # A client that connects and sends half a request, then nothing.
        slow = socket.create_connection(("::1", port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\n")
        slow.settimeout(30)  # far longer than [http] timeout: the server must hang up first
        assert _get(port, "/metrics")[0] == 200  # the others are served meanwhile
        assert slow.recv(1024) == b""  # closed by the server, no answer
        slow.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        log.close()


def test_health_after_a_failed_then_successful_start_up(tmp_path):
    from watcher.observe import Health
    from watcher.store.db import make_engine

    clock = [1000.0]
    health = Health(make_engine(f"sqlite:///{tmp_path / 'h.db'}"), max_cycle_age=600,
                    clock=lambda: clock[0])
    assert health.check() == (True, "ok")  # starting
    health.cycle_failed("start-up failed: OperationalError: the database is away")
    assert health.check() == (False, "start-up failed: OperationalError: the database is away")
    clock[0] += 1200  # the database was away for 20 minutes
    health.start_succeeded()
    clock[0] += 300
    assert health.check() == (True, "ok")  # the first cycle is running, within its time
    clock[0] += 400
    assert health.check()[0] is False  # no cycle completed for 700 s
    health.cycle_ok()
    assert health.check() == (True, "ok")
