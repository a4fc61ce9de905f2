"""Button presses, one piece at a time: Slack's payload shapes, the signature check, what each
press stores and shows, the rule-test inbox. Real SQLite, the real slack_sdk against the Slack
stand-in; signatures computed as Slack documents them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from tests.conftest import ROOT
from tests.slack_standin import SlackStandIn
from tests.test_stories import block_actions, button, text_of
from watcher.actions import MAX_BODY, Actions, PayloadError, parse_press
from watcher.deliver import Delivery
from watcher.notify.slack import SlackNotifier, make_slack_client
from watcher.notify.story import user_mention
from watcher.rules import commands
from watcher.settings import Settings, SlackSettings
from watcher.store import findings, outbox, repo, stories
from watcher.store.db import make_engine, migrate
from watcher.types import AlertDraft, AlertKind, Article, Decision, Finding, Novelty, Outcome

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "e0a6bd4f8b0ad41f9a4d1ae4c2b0f7a1"

# Slack's documented example of a block_actions payload (a button in a message), with our
# button's action_id and value.
DOCUMENTED = {
    "type": "block_actions",
    "team": {"id": "T9TK3CUKW", "domain": "example"},
    "user": {"id": "UA8RXUSPL", "username": "jtorrance", "team_id": "T9TK3CUKW"},
    "api_app_id": "AABA1ABCD",
    "token": "9s8d9as89d8as9d8as989",
    "container": {"type": "message", "message_ts": "1548261231.000200",
                  "channel_id": "CBR2V3XEX", "is_ephemeral": False},
    "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
    "channel": {"id": "CBR2V3XEX", "name": "review-updates"},
    "message": {"bot_id": "BAH5CA16Z", "type": "message", "text": "This content can't be "
                "displayed.", "user": "UAJ2RU415", "ts": "1548261231.000200"},
    "response_url": "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/"
                    "D09sSasdasdAS9091209",
    "actions": [{"action_id": "mute", "block_id": "story-12",
                 "text": {"type": "plain_text", "text": "Mute 24 h", "emoji": True},
                 "value": "12", "type": "button", "action_ts": "1548426417.840180"}],
}


def test_a_documented_payload_is_a_press():
    press = parse_press(DOCUMENTED)
    assert (press.action, press.development, press.user, press.channel_id, press.message_ts,
            press.undo) == ("mute", 12, "UA8RXUSPL", "CBR2V3XEX", "1548261231.000200", None)
    undo = json.loads(json.dumps(DOCUMENTED))
    undo["actions"][0].update(action_id="undo", value="not_news:12")
    assert parse_press(undo).undo == "not_news"


def _with(path: str, value: object) -> dict:  # type: ignore[type-arg]
    payload = json.loads(json.dumps(DOCUMENTED))
    *parents, last = path.split(".")
    node = payload
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return payload


@pytest.mark.parametrize("payload", [
    None, [], "block_actions", _with("type", "view_submission"), _with("actions", []),
    _with("actions.0.action_id", "delete_everything"), _with("actions.0.value", "12; drop"),
    _with("actions.0.value", "-1"), _with("actions.0.value", "9" * 40),
    _with("actions.0.action_id", "undo"),  # an undo names what it undoes
    _with("user.id", "<!channel>"), _with("user", "UA8RXUSPL"), _with("channel.id", None),
    _with("container.message_ts", "1548261231.000200" * 5), _with("container", {}),
])
def test_anything_else_is_refused_with_a_reason(payload):
    with pytest.raises(PayloadError):
        parse_press(payload)


def test_a_mention_is_made_only_of_a_user_id():
    assert user_mention("U024BE7LH") == "<@U024BE7LH>"
    for hostile in ("<!channel>", "U1>", "u024be7lh", "", None, "U" * 40, "Ü024"):
        assert user_mention(hostile) == "someone"


# -- a story on a real database, posted to the stand-in ------------------------------------

@pytest.fixture
def world(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    for f in [*(ROOT / "rules").glob("*.yaml"), *(ROOT / "rules" / "tests").glob("*.yaml")]:
        (rules / f.relative_to(ROOT / "rules")).write_text(f.read_text())
    settings = Settings(path=tmp_path / "watcher.toml", slack=SlackSettings(pace=0))
    with SlackStandIn() as slack:
        clock = [T0]
        notifier = SlackNotifier(make_slack_client("xoxb-test", slack.base_url, 5.0),
                                 mute_hours=24, clock=lambda: clock[0])
        delivery = Delivery(engine, notifier, settings.slack, clock=lambda: clock[0],
                            owner="test", sleep=lambda s: None)
        actions = Actions(engine, delivery, settings, {"SLACK_SIGNING_SECRET": SECRET},
                          clock=lambda: clock[0])
        yield engine, slack, delivery, actions, rules, clock
    engine.dispose()


TEXT = ("Secretary of State Mike Pompeo will travel to Kuala Lumpur and Jakarta from August 2 to "
        "5, the State Department said on Tuesday.")


def post_story(engine, delivery: Delivery, n: int = 1, kind: str = "new",  # type: ignore[no-untyped-def]
               matched=None, rule: str = "pompeo-trip") -> int:
    art = Article(f"https://news.test/{n}", f"Pompeo to travel, report {n}", TEXT, T0,
                  outlet=f"Outlet {n}")
    art_id, _ = repo.save_article(engine, art, "feed", T0)
    f = Finding(rule_id=rule, key=f"k{n}", facts={"status": "announced"}, evidence=TEXT,
                summary=f"Pompeo trip {n}", display={"status": "announced",
                                                     "where": "Kuala Lumpur"})
    d = Decision(Novelty(kind), "test", matched=matched)
    draft = AlertDraft(AlertKind(kind), rule, "#news-alerts", f.summary, art.url, art.title,
                       evidence=TEXT, facts=f.display, template="Pompeo trip ({status})")
    findings.record_findings(engine, art_id, [Outcome(f, d, draft)], T0)
    delivery.deliver()
    return art_id


def signed(body: bytes, age: float = 0, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time() - age))
    mac = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac.hexdigest()}"}


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_requests_are_verified_before_anything_else(world):
    engine, slack, delivery, actions, _rules, _clock = world
    post_story(engine, delivery)
    [message] = slack.messages
    body = form(block_actions(message, "mute", "U0ALICE"))
    assert actions.http(body, signed(body, secret="wrong"))[0] == 401
    assert actions.http(body, signed(body, age=600))[0] == 401  # ten minutes old
    assert actions.http(body, signed(body, age=-600))[0] == 401  # from the future
    assert actions.http(body, {})[0] == 401
    assert actions.http(body, {**signed(body), "X-Slack-Request-Timestamp": "1e9"})[0] == 401
    assert actions.http(body + b"&x=1", signed(body))[0] == 401  # body changed after signing
    bad = b"payload=%ff%fe"
    assert actions.http(bad, signed(bad))[0] in (400, 401)  # never an exception
    big = b"payload=" + b"a" * MAX_BODY
    assert actions.http(big, signed(big))[0] == 413
    junk = b"payload=" + b"[" * 100_000  # deeply nested JSON: refused, not a crash
    assert actions.http(junk, signed(junk))[0] == 400
    assert not actions.done and slack.updates == []
    assert stories.get(engine, 1) is not None and not stories.get(engine, 1).muted(T0)
    off = Actions(engine, delivery, actions.settings, {})
    assert off.http(body, signed(body))[0] == 404  # no signing secret: interactivity off


def test_mute_then_undo(world):
    engine, slack, delivery, actions, _rules, clock = world
    post_story(engine, delivery)
    [message] = slack.messages
    body = form(block_actions(message, "mute", "U0ALICE"))
    assert actions.http(body, signed(body)) == (200, b"")
    actions.close()  # waits for the press to be carried out
    story = stories.get(engine, 1)
    assert story is not None and story.muted_by == "U0ALICE"
    assert story.muted_until == T0 + timedelta(hours=24)
    assert "Muted by <@U0ALICE> until 2026-11-25 12:00 UTC" in text_of(message)
    assert button(message, "undo")[1] == "mute:1"

    # its update is recorded, not posted; the message still shows the new state
    post_story(engine, delivery, 2, "update", matched=findings.known_findings(engine)[0])
    assert len(slack.messages) == 1
    [quiet] = [a for a in outbox.list_alerts(engine) if a.id == 2]
    assert quiet.state == "folded" and "muted by U0ALICE" in (quiet.error or "")

    body = form(block_actions(message, "undo", "U0BOB"))
    assert actions.http(body, signed(body))[0] == 200
    actions.close()
    assert not stories.get(engine, 1).muted(T0)
    assert "Muted by" not in text_of(message) and button(message, "mute")[1] == "1"
    post_story(engine, delivery, 3, "update", matched=findings.known_findings(engine)[0])
    assert [m["thread_ts"] for m in slack.messages] == [None, message["ts"]]

    clock[0] = T0 + timedelta(hours=30)  # a mute that ran out is a mute no more
    assert actions.apply(parse_press(block_actions(message, "mute", "U0ALICE"))) is not None
    clock[0] = T0 + timedelta(hours=55)
    post_story(engine, delivery, 4, "update", matched=findings.known_findings(engine)[0])
    assert len(slack.messages) == 3


def test_a_press_on_another_message_changes_nothing(world):
    engine, slack, delivery, actions, _rules, _clock = world
    post_story(engine, delivery)
    [message] = slack.messages
    press = block_actions(message, "mute", "U0ALICE")
    press["container"]["message_ts"] = "1500000000.000001"
    assert actions.apply(parse_press(press)) is None
    press = block_actions(message, "mute", "U0ALICE")
    press["actions"][0]["value"] = "999"
    assert actions.apply(parse_press(press)) is None
    assert slack.updates == [] and not stories.get(engine, 1).muted(T0)


def test_not_news_writes_the_inbox_case_and_undo_removes_it(world, capsys):
    engine, slack, delivery, actions, rules, _clock = world
    post_story(engine, delivery)
    [message] = slack.messages
    actions.apply(parse_press(block_actions(message, "not_news", "U0BOB")))
    [path] = (rules / "tests" / "inbox").glob("*.yaml")
    assert path.name == "pompeo-trip-1.yaml"
    [case] = yaml.safe_load(path.read_text())["tests"]
    assert case["url"] == "https://news.test/1" and case["title"] == "Pompeo to travel, report 1"
    assert case["text"] == TEXT and case["expect"] == [] and case["rules"] == ["pompeo-trip"]
    assert case["finding"] == {"rule": "pompeo-trip", "kind": "new", "summary": "Pompeo trip 1",
                               "reason": "test", "facts": {"status": "announced",
                                                           "where": "Kuala Lumpur"}}
    assert "Marked *not news* by <@U0BOB>" in text_of(message)
    assert button(message, "undo")[1] == "not_news:1"

    # the inbox is left out of `rules test`, and `rules test --inbox` runs it: the rule still
    # finds the trip, so the case fails, naming the article
    capsys.readouterr()
    assert commands.test(rules) == 0
    assert "not news (story #" not in capsys.readouterr().out
    assert commands.test(rules, inbox=True) == 1
    out = capsys.readouterr().out
    assert "FAIL pompeo-trip-1.yaml: not news (story #1)" in out and "unexpected: new" in out

    post_story(engine, delivery, 2, "update", matched=findings.known_findings(engine)[0])
    assert len(slack.messages) == 1  # its follow-ups stay quiet

    actions.apply(parse_press(block_actions(message, "undo", "U0BOB")))
    assert not path.exists() and not stories.get(engine, 1).dismissed
    assert "Marked *not news*" not in text_of(message) and button(message, "not_news")[1] == "1"
    post_story(engine, delivery, 3, "update", matched=findings.known_findings(engine)[0])
    assert len(slack.messages) == 2
    assert commands.test(rules, inbox=True) == 0  # an empty inbox
    assert "no cases in the inbox" in capsys.readouterr().out


def test_the_manifest_asks_for_exactly_what_is_used():
    from watcher.notify.slack import BOT_SCOPES

    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith("/slack/actions")
    assert manifest["settings"]["socket_mode_enabled"] is False  # the documented switch


def test_readme_shows_the_buttons_as_rendered():
    from watcher.notify.docs import buttons_json

    readme = (ROOT / "README.md").read_text()
    assert buttons_json() in readme
    assert '"action_id": "mute"' in buttons_json() and '"action_id": "not_news"' in buttons_json()
    assert "deploy/slack-app-manifest.yaml" in readme
    assert "deploy/slack-app-manifest.yaml" in (ROOT / "docs" / "alerts.md").read_text()


def test_an_inbox_file_is_never_removed_outside_the_inbox(tmp_path):
    from watcher.rules.inbox import remove_case

    outside = tmp_path / "keep.yaml"
    outside.write_text("x")
    (tmp_path / "inbox").mkdir()
    assert remove_case(outside, tmp_path / "inbox") is False and outside.exists()
    assert remove_case(Path(tmp_path / "inbox" / "gone.yaml"), tmp_path / "inbox") is False


def _json_values():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=40)
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=30)


def test_any_json_is_a_press_or_a_refusal_never_a_crash():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    keys = st.sampled_from(["type", "user", "channel", "container", "actions", "id",
                            "message_ts", "action_id", "value"])

    @settings(max_examples=200, deadline=None)
    @given(_json_values(), st.lists(st.tuples(keys, _json_values()), max_size=5))
    def check(noise, patches):  # type: ignore[no-untyped-def]
        payload = json.loads(json.dumps(DOCUMENTED))
        action = payload["actions"][0]
        for key, value in patches:  # a field of the payload or of its action, replaced
            (payload if key in payload else action)[key] = value
        for candidate in (noise, payload):
            try:
                press = parse_press(candidate)
            except PayloadError:
                continue
            assert press.action in ("mute", "not_news", "undo") and press.development >= 0
            assert press.user.isalnum() and press.channel_id.isalnum()

    check()
