"""Running under systemd: the notify protocol over a real unix datagram socket, the heartbeats
of a real `watcher run`, the unit file, and no Slack secret in the extraction worker."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config
from tests.proctree import children_of, environ_of
from watcher import sdnotify

UNIT = ROOT / "deploy" / "watcher.service"


@pytest.fixture
def notify_socket():  # type: ignore[no-untyped-def]
    folder = tempfile.mkdtemp(prefix="wn-")  # short: a unix socket path has 108 bytes at most
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    try:
        yield path, sock
    finally:
        sock.close()
        shutil.rmtree(folder)


def test_notify_sends_datagrams_to_a_path_and_an_abstract_socket(notify_socket):
    path, sock = notify_socket
    beat = sdnotify.Heartbeat({"NOTIFY_SOCKET": path})
    beat.beat()
    beat.beat()
    assert sock.recv(4096) == b"READY=1\nSTATUS=cycles running\nWATCHDOG=1"
    assert sock.recv(4096) == b"WATCHDOG=1"

    name = f"watcher-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as abstract:
        abstract.bind("\0" + name)
        abstract.settimeout(10)
        assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert abstract.recv(4096) == b"WATCHDOG=1"


def test_without_a_notify_socket_nothing_is_sent():
    assert sdnotify.notify("READY=1", {}) is False
    beat = sdnotify.Heartbeat({})
    beat.beat()
    assert beat.ready is False


def test_a_dead_notify_socket_does_not_stop_the_service(tmp_path, caplog):
    beat = sdnotify.Heartbeat({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    beat.beat()
    beat.beat()
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1


def test_watcher_run_says_ready_then_beats_and_its_worker_has_no_slack_secrets(
        notify_socket, tmp_path):
    path, sock = notify_socket
    cfg = write_config(tmp_path, feeds=[], extra="[schedule]\ninterval = 1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000",
                "SLACK_BOT_TOKEN": "xoxb-main-process-only"})
    log = open(tmp_path / "service.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        messages = [sock.recv(4096) for _ in range(3)]
        children = children_of(proc.pid)
        environs = {pid: environ_of(pid) for pid in children}
        threads = int(next(line.split()[1] for line in
                           Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                           if line.startswith("Threads:")))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        log.close()
    assert messages[0].startswith(b"READY=1\n") and messages[0].endswith(b"WATCHDOG=1")
    assert messages[1:] == [b"WATCHDOG=1", b"WATCHDOG=1"]
    workers = [env for env in environs.values() if env is not None]
    assert workers, "the extraction worker was not found"
    for worker_env in workers:
        assert not any(k.startswith("SLACK_") for k in worker_env)
    print(f"service threads: {threads}, child processes: {len(children)}")
    assert threads + len(children) < 128  # TasksMax in the unit


def _unit_settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_unit_limits_and_watches_the_service():
    unit = _unit_settings()
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    for key in ("WatchdogSec", "MemoryMax", "TasksMax", "TimeoutStartSec"):
        assert unit.get(key), f"{key}= missing"
    denied = " ".join(unit["IPAddressDeny"]).split()
    assert "169.254.0.0/16" in denied and "fe80::/10" in denied


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    unit = tmp_path / "watcher.service"
    unit.write_text(UNIT.read_text())
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=120)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.strip() and "is not executable" not in line]  # not installed here
    assert complaints == []
