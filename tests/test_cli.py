"""The operator commands: feeds (add, remove, OPML import, health) and replay after a rule change."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from tests.conftest import ROOT, run_watcher, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from tests.test_end_to_end import POMPEO_NEW, SUMMIT_NEW, _serve_news

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
<outline text="World"><outline text="A" title="Feed A" type="rss" xmlUrl="https://a.test/rss"/>
<outline text="B" type="rss" xmlUrl="https://b.test/atom"/></outline></body></opml>"""


def test_feeds_add_remove_import_and_health(tmp_path, http_server):
    gone = http_server.route("/gone.rss", Reply(status=410, body=b"gone"))
    cfg = write_config(tmp_path, feeds=[gone])
    out = run_watcher("feeds", "add", "https://c.test/feed.xml", "--config", str(cfg))
    assert out.returncode == 0 and "added https://c.test/feed.xml" in out.stdout
    again = run_watcher("feeds", "add", "https://c.test/feed.xml", "--config", str(cfg))
    assert "already watched" in again.stdout
    (tmp_path / "subs.opml").write_text(OPML)
    imp = run_watcher("feeds", "import", str(tmp_path / "subs.opml"), "--config", str(cfg))
    assert "imported 2 new feed(s)" in imp.stdout
    bad = run_watcher("feeds", "import", str(tmp_path / "missing.opml"), "--config", str(cfg))
    assert bad.returncode == 1 and "not a readable OPML file" in bad.stderr
    assert run_watcher("feeds", "remove", "https://b.test/atom", "--config",
                       str(cfg)).returncode == 0
    refused = run_watcher("feeds", "remove", gone, "--config", str(cfg))
    assert refused.returncode == 1 and "remove it there" in refused.stderr

    assert run_watcher("run", "--once", "--config", str(cfg)).returncode == 0
    listing = run_watcher("feeds", "--config", str(cfg)).stdout
    for url in (gone, "https://a.test/rss", "https://c.test/feed.xml"):
        assert url in listing
    assert "https://b.test/atom" not in listing
    assert "DISABLED: gone (HTTP 410)" in listing
    enabled = run_watcher("feeds", "enable", gone, "--config", str(cfg))
    assert enabled.returncode == 0 and "enabled" in enabled.stdout
    assert "DISABLED" not in run_watcher("feeds", "--config", str(cfg)).stdout


def test_replay_after_a_rule_is_added(tmp_path, http_server):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "pompeo-trip.yaml", rules)
    feed = _serve_news(http_server, [POMPEO_NEW, SUMMIT_NEW])
    env = {"SLACK_BOT_TOKEN": "xoxb-test"}
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url, rules=rules)
        assert run_watcher("run", "--once", "--config", str(cfg), env=env).returncode == 0
        assert len(slack.messages) == 1  # only the Pompeo trip: no summit rule yet

        found = run_watcher("findings", "--since", "1d", "--config", str(cfg))
        assert found.returncode == 0, found.stderr
        assert "pompeo-trip" in found.stdout and " new " in found.stdout
        assert "reason: no known pompeo-trip development matches" in found.stdout
        assert http_server.url("/news/0.html") in found.stdout
        none = run_watcher("findings", "--rule", "summit-announcement", "--config", str(cfg))
        assert "no findings since" in none.stdout
        shown = run_watcher("alerts", "show", "1", "--config", str(cfg))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("alert #1: new, sent")
        for line in ("rule:        pompeo-trip", "channel:     #news-alerts",
                     "reason:      no known pompeo-trip", "message ts:  "):
            assert line in shown.stdout, shown.stdout
        missing = run_watcher("alerts", "show", "99", "--config", str(cfg))
        assert missing.returncode == 1 and "no alert #99" in missing.stderr

        shutil.copy(ROOT / "rules" / "summit-announcement.yaml", rules)
        dry = run_watcher("replay", "--since", "1d", "--dry-run", "--config", str(cfg), env=env)
        assert dry.returncode == 0, dry.stderr
        assert "would alert: [summit-announcement] new" in dry.stdout
        assert "pompeo-trip" not in dry.stdout  # already alerted: not repeated
        assert len(slack.messages) == 1  # a dry run sends nothing

        real = run_watcher("replay", "--since", "1d", "--rule", "summit-announcement",
                           "--config", str(cfg), env=env)
        assert real.returncode == 0, real.stderr
        assert "1 new alert(s)" in real.stdout
        assert len(slack.messages) == 2
        assert http_server.url("/news/1.html") in str(slack.messages[1]["blocks"])

        again = run_watcher("replay", "--since", "1d", "--config", str(cfg), env=env)
        assert "0 new alert(s)" in again.stdout and len(slack.messages) == 2
        bad = run_watcher("replay", "--since", "soon", "--config", str(cfg), env=env)
        assert bad.returncode == 2 and "expected a number and a unit" in bad.stderr


def test_rules_explain_and_check_from_the_command_line(tmp_path):
    cfg = write_config(tmp_path, feeds=[])
    assert run_watcher("run", "--once", "--config", str(cfg)).returncode == 0  # loads baseline
    story = tmp_path / "story.txt"
    story.write_text("White House: second Trump-Kim summit set for Hanoi\n"
                     "President Trump and Kim Jong Un will hold their second summit in Hanoi, "
                     "Vietnam, on Feb. 27 and 28, the White House said on Tuesday.\n")
    out = run_watcher("rules", "explain", "summit-announcement", "--text", str(story),
                      "--date", "2019-02-05", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert "MATCH" in out.stdout and "Hanoi" in out.stdout
    assert "update" in out.stdout  # seed 004 knew "end of February", place to be announced
    assert "publication date: 2019-02-05 00:00Z (from --date)" in out.stdout
    unknown = run_watcher("rules", "explain", "no-such-rule", "--text", str(story),
                          "--config", str(cfg))
    assert unknown.returncode == 1 and "unknown rule" in unknown.stdout
    bad = run_watcher("rules", "explain", "summit-announcement", "--text", str(story),
                      "--date", "5 Feb 2019", "--config", str(cfg))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--date '5 Feb 2019': expected a date such as 2019-02-08" in bad.stderr

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "r.yaml").write_text("id: r\ndescription: x\nterms: {}\nmatch: {all: [nope]}\n")
    check = run_watcher("rules", "check", str(broken), "--config", str(cfg))
    assert check.returncode == 1 and "r.yaml:" in check.stdout
    assert run_watcher("rules", "check", "--config", str(cfg)).returncode == 0


def test_rules_explain_a_page_with_and_without_date(tmp_path, http_server):
    from tests.conftest import article_page

    page = http_server.route("/story.html", Reply(body=article_page(
        "Second Trump-Kim summit set for Hanoi",
        ["President Trump and Kim Jong Un will hold their second summit in Hanoi, Vietnam, on "
         "Feb. 27 and 28, the White House said on Tuesday."],
        published=datetime(2019, 2, 5, 18, tzinfo=UTC))))
    cfg = write_config(tmp_path, feeds=[])
    own = run_watcher("rules", "explain", "summit-announcement", "--url", page,
                      "--config", str(cfg))
    assert own.returncode == 0, own.stderr
    assert "publication date: 2019-02-05 18:00Z (the page's own date)" in own.stdout
    given = run_watcher("rules", "explain", "summit-announcement", "--url", page,
                        "--date", "2019-01-30", "--config", str(cfg))
    assert given.returncode == 0, given.stderr
    assert "publication date: 2019-01-30 00:00Z (from --date)" in given.stdout


def test_log_options_work_before_and_after_the_command(tmp_path):
    import json

    cfg = write_config(tmp_path, feeds=[])
    after = run_watcher("run", "--once", "--log-format", "json", "--config", str(cfg))
    before = run_watcher("--log-format", "json", "run", "--once", "--config", str(cfg))
    for result in (after, before):  # deploy/watcher.service puts them after the command
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
        assert any(r["message"].startswith("cycle done") for r in lines)
    quiet = run_watcher("run", "--once", "--log-level", "warning", "--log-format", "json",
                        "--config", str(cfg))
    levels = {json.loads(line)["level"] for line in quiet.stderr.splitlines() if line.strip()}
    assert levels == {"WARNING"}  # the console-mode warning, no INFO lines
