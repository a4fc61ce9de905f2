"""The address denylist: explicit, the same on every Python version, and refused at once."""

from __future__ import annotations

import ipaddress
import random

import pytest

from tests.conftest import ROOT, run_watcher
from watcher.netguard import DENIED, address_problem


@pytest.mark.parametrize("address, problem", [
    # ranges that this Python's ipaddress calls global, or did in some release
    ("192.0.0.192", "private address"), ("192.0.0.9", "private address"),
    ("192.0.0.170", "private address"), ("fec0::1", "private address"),
    ("feff::1", "private address"), ("192.31.196.1", "non-global address"),
    ("192.52.193.1", "non-global address"), ("192.88.99.1", "non-global address"),
    ("192.175.48.1", "non-global address"), ("2620:4f:8000::1", "non-global address"),
    ("3fff::1", "non-global address"), ("64:ff9b:1::1", "non-global address"),
    ("2001:4:112::1", "non-global address"), ("2001:20::1", "non-global address"),
    ("2001::1", "non-global address"), ("2001:db8::1", "non-global address"),
    ("100::1", "non-global address"), ("5f00::1", "reserved address"),
    ("4000::1", "reserved address"), ("::2", "private address (embedded in IPv6)"),
    ("2002:c000:00c0::1", "private address (embedded in IPv6)"),
    ("64:ff9b::c000:c0", "private address (embedded in IPv6)"),
    ("::ffff:192.0.0.192", "private address (embedded in IPv6)"),
    ("fe80::1%eth0", "link-local address"),
    ("0.1.2.3", "private address"), ("198.18.0.1", "private address"),
    ("203.0.113.9", "private address"), ("255.255.255.255", "reserved address"),
    # ordinary global addresses
    ("1.1.1.1", None), ("93.184.215.14", None), ("2a00:1450:4001::200e", None),
    ("::ffff:8.8.8.8", None), ("2002:808:808::1", None), ("64:ff9b::808:808", None),
])
def test_special_purpose_ranges(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


def test_every_range_is_refused_at_its_edges():
    for net, reason in DENIED:
        for ip in (net.network_address, net.broadcast_address):
            assert address_problem(ip) is not None, (net, reason)


def test_the_table_refuses_at_least_what_this_python_calls_non_global():
    rng = random.Random(13)
    samples = [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(100_000)]
    samples += [ipaddress.IPv6Address((0x2000 << 112) | rng.getrandbits(115))  # in 2000::/3
                for _ in range(50_000)]
    samples += [ipaddress.IPv6Address(rng.getrandbits(128)) for _ in range(20_000)]
    missed = [ip for ip in samples if not ip.is_global and address_problem(ip) is None]
    assert missed == []


def _explain(tmp_path, url):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "watcher.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n'
                   f'[rules]\npath = "{ROOT / "rules"}"\n[baseline]\npath = "{ROOT / "seeds"}"\n'
                   "[fetch]\nallow_private_addresses = false\nconnect_timeout = 30.0\n"
                   "timeout = 60.0\n")
    return run_watcher("rules", "explain", "pompeo-trip", "--url", url, "--config", str(cfg))


@pytest.mark.parametrize("url, shown", [
    ("http://192.0.0.192/latest/meta-data/", "192.0.0.192"),
    ("http://[fec0::1]/latest/meta-data/", "fec0::1"),
])
def test_rules_explain_refuses_special_addresses_at_once(tmp_path, url, shown):
    result = _explain(tmp_path, url)  # a connection attempt would wait for its 30 s timeout
    assert result.returncode == 1
    assert f"blocked_address: {shown} refused: private address" in result.stderr
    assert "timeout" not in result.stderr  # refused before any connection attempt
