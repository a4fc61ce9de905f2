"""A running watcher picks up edited rule files; a broken edit is reported (log and the
operators' Slack channel) while the last good version stays live."""

from __future__ import annotations

import json
import shutil

from tests.conftest import ROOT, write_config
from tests.slack_standin import SlackStandIn
from watcher.service import build
from watcher.settings import load_settings


def test_broken_edit_is_reported_and_last_good_rules_stay_live(tmp_path, caplog):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "pompeo-trip.yaml", rules)
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url, rules=rules,
                           slack_extra='operator_channel = "#watcher-ops"')
        service = build(load_settings(cfg), env={"SLACK_BOT_TOKEN": "xoxb-test"})
        try:
            pipeline = service.pipeline
            pipeline.start()
            assert set(pipeline.rules.rules) == {"pompeo-trip"}
            good = pipeline.rules.rules["pompeo-trip"]

            text = (rules / "pompeo-trip.yaml").read_text()
            (rules / "pompeo-trip.yaml").write_text(text + "\nsevrity: high\n")  # a typo
            errors = pipeline.reload_rules()
            assert len(errors) == 1 and "pompeo-trip.yaml" in str(errors[0])
            assert "sevrity" in str(errors[0])
            assert pipeline.rules.rules["pompeo-trip"] is good  # still live
            assert any("rejected" in r.getMessage() for r in caplog.records)
            [notice] = slack.messages_in("watcher-ops")
            assert "sevrity" in json.dumps(notice["blocks"]) + notice["text"]

            pipeline.reload_rules()  # the same error again is not re-announced
            assert len(slack.messages_in("watcher-ops")) == 1

            (rules / "pompeo-trip.yaml").write_text(text)  # fixed
            shutil.copy(ROOT / "rules" / "summit-announcement.yaml", rules)
            assert pipeline.reload_rules() == []
            assert set(pipeline.rules.rules) == {"pompeo-trip", "summit-announcement"}
        finally:
            service.close()
