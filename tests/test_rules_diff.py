"""`watcher rules diff`: a working copy of the rules against the live ones, over stored
articles (a real SQLite database written by the store's own functions), through the real
command line. The database must be exactly as it was afterwards."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_watcher, write_config
from watcher.rules.diff import RuleDiff
from watcher.rules.loader import load_ruleset
from watcher.store import repo
from watcher.store.db import make_engine, migrate
from watcher.types import Article, Novelty

KL = Article(
    "https://news.test/pompeo-kl", "Pompeo to visit Malaysia and Indonesia next week",
    "Secretary of State Mike Pompeo will travel to Kuala Lumpur and Jakarta from August 2 to 5, "
    "the State Department said on Tuesday. Officials said the trip would highlight the "
    "administration's new economic initiatives for Southeast Asia.",
    datetime(2018, 7, 31, 14, 0, tzinfo=UTC), "Outlet A")
TOKYO = Article(
    "https://news.test/pompeo-tokyo", "Pompeo to visit Tokyo and Seoul, State Department says",
    "Secretary of State Mike Pompeo will travel to Tokyo and Seoul on October 6, the State "
    "Department said on Tuesday.",
    datetime(2018, 10, 2, 9, 0, tzinfo=UTC), "Outlet B")
SUMMIT = Article(
    "https://news.test/summit-ub", "Trump and Kim to meet in Ulaanbaatar in September",
    "President Trump and North Korean leader Kim Jong Un will hold a summit in Ulaanbaatar, "
    "Mongolia, in the second week of September, the White House said on Wednesday.",
    datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "Outlet C")
WEATHER = Article(
    "https://news.test/weather", "Storms expected across the plains",
    "Forecasters expect heavy storms across the plains on Thursday, with hail possible.",
    datetime(2018, 8, 1, 9, 0, tzinfo=UTC), "Outlet D")

# Narrowing: the Pompeo rule no longer counts an article that names Malaysia.
NARROW = """exclude:
  - if: malaysia
    in: article
    because: narrowed for the test
"""


def _narrowed(folder: Path) -> Path:
    shutil.copytree(ROOT / "rules", folder)
    rule = folder / "pompeo-trip.yaml"
    text = rule.read_text(encoding="utf-8").replace(
        "\nterms:\n", "\nterms:\n  malaysia:\n    - Malaysia\n", 1).replace("exclude:\n", NARROW, 1)
    assert NARROW in text
    rule.write_text(text, encoding="utf-8")
    return folder


def _store(tmp_path: Path, articles: list[Article]) -> Path:
    db = tmp_path / "watcher.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    now = datetime.now(UTC)
    for a in articles:
        repo.save_article(engine, a, "feed", now)
    engine.dispose()
    return db


def _state(db: Path) -> tuple[str, dict[str, list[tuple]]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}
    conn.close()
    return hashlib.sha256(db.read_bytes()).hexdigest(), rows


@pytest.fixture
def stored(tmp_path):
    db = _store(tmp_path, [KL, TOKYO, SUMMIT, WEATHER])
    cfg = write_config(tmp_path, feeds=[])
    return cfg, db


def _diff(cfg: Path, copy: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_watcher("rules", "diff", str(copy), "--config", str(cfg), *extra)


def test_an_unchanged_copy_exits_0_and_writes_nothing(stored, tmp_path):
    cfg, db = stored
    before = _state(db)
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "rules", copy)
    out = _diff(cfg, copy)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 article(s) compared: 0 alert(s) gained, 0 lost, 0 decision(s) changed" \
        in out.stdout
    assert "live rules: 3 alert(s), working copy: 3" in out.stdout
    assert _state(db) == before


def test_a_narrowed_rule_lists_exactly_the_alerts_it_loses(stored, tmp_path):
    cfg, db = stored
    before = _state(db)
    out = _diff(cfg, _narrowed(tmp_path / "copy"))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "alerts lost (1):" in out.stdout and "alerts gained" not in out.stdout
    lost = out.stdout.split("alerts lost (1):", 1)[1].split("\n\n", 1)[0]
    assert "- [pompeo-trip] new:" in lost and "<https://news.test/pompeo-kl>" in lost
    assert "Outlet A, 2018-07-31" in lost
    assert "reason: no known pompeo-trip development matches" in lost
    for other in ("pompeo-tokyo", "summit-ub", "weather"):
        assert other not in out.stdout
    assert "0 alert(s) gained, 1 lost, 0 decision(s) changed" in out.stdout
    assert _state(db) == before


def test_a_widened_rule_lists_exactly_the_alerts_it_gains(stored, tmp_path):
    cfg, db = stored
    live = _narrowed(tmp_path / "live")
    cfg.write_text(cfg.read_text().replace(f'path = "{ROOT / "rules"}"', f'path = "{live}"'))
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "rules", copy)
    out = _diff(cfg, copy)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "alerts gained (1):" in out.stdout and "alerts lost" not in out.stdout
    gained = out.stdout.split("alerts gained (1):", 1)[1]
    assert "+ [pompeo-trip] new:" in gained and "<https://news.test/pompeo-kl>" in gained
    assert "1 alert(s) gained, 0 lost" in out.stdout


def test_only_the_rule_asked_about(stored, tmp_path):
    cfg, _ = stored
    out = _diff(cfg, _narrowed(tmp_path / "copy"), "--rule", "summit-announcement")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "live rules: 1 alert(s), working copy: 1" in out.stdout
    unknown = _diff(cfg, tmp_path / "copy", "--rule", "no-such-rule")
    assert unknown.returncode == 2 and "unknown rule id(s): no-such-rule" in unknown.stderr


def test_a_broken_copy_exits_2_with_file_and_line(stored, tmp_path):
    cfg, db = stored
    before = _state(db)
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "rules", copy)
    broken = copy / "pompeo-trip.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "  severity: info", "  severity: loud"), encoding="utf-8")
    out = _diff(cfg, copy)
    check = run_watcher("rules", "check", str(copy), "--config", str(cfg))
    assert out.returncode == 2
    error = next(line for line in check.stdout.splitlines() if "severity" in line)
    assert error.startswith(f"{broken}:") and error in out.stdout  # as `rules check` says it
    assert "unknown severity 'loud'" in error
    assert "article(s) compared" not in out.stdout
    assert _state(db) == before


def test_earlier_alerts_count_on_each_side_as_they_would_in_the_service():
    """A later report of the same trip, by the same outlet, is known on the live side (the
    first report alerted) and new in a copy that no longer sees the first report: the copy
    gains it, and its decision changed."""
    later = Article(
        "https://news.test/pompeo-jakarta", "Pompeo heads to Jakarta",
        "Secretary of State Mike Pompeo will travel to Jakarta from August 2 to 5, the State "
        "Department said.", datetime(2018, 8, 1, 9, 0, tzinfo=UTC), "Outlet A")
    live, _ = load_ruleset(ROOT / "rules")
    copy_dir = Path(__import__("tempfile").mkdtemp()) / "copy"
    copy, errors = load_ruleset(_narrowed(copy_dir))
    assert not errors
    diff = RuleDiff(live, copy, [], default_channel="#news", rule_ids=["pompeo-trip"])
    diff.add(1, KL)
    diff.add(2, later)
    report = diff.report()
    assert [d.article.url for d in report.lost] == [KL.url]
    assert [d.article.url for d in report.gained] == [later.url]
    [changed] = report.changed
    assert changed.live is not None and changed.live.decision.kind == Novelty.KNOWN
    assert changed.copy is not None and changed.copy.decision.kind == Novelty.NEW
    shutil.rmtree(copy_dir.parent)
