"""A running watcher picks up edited rule files; a broken edit is reported (log and the
operators' Slack channel) while the last good version stays live."""

from __future__ import annotations

import json
import shutil

from tests.conftest import ROOT, write_config
from tests.slack_standin import SlackStandIn
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import findings


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


def test_a_seed_added_to_the_manifest_is_loaded_at_the_next_start(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    cfg = write_config(tmp_path, feeds=[], baseline=seeds)

    def known_count() -> int:
        service = build(load_settings(cfg), env={})
        try:
            service.pipeline.start()
            return sum(1 for k in findings.known_findings(service.engine)
                       if k.origin == "baseline")
        finally:
            service.close()

    before = known_count()
    (seeds / "005_new.txt").write_text(
        "Secretary of State Mike Pompeo will travel to Reykjavik, Iceland, on February 15, "
        "the State Department said on Monday.\n")
    with open(seeds / "manifest.yaml", "a") as fh:
        fh.write("  - file: 005_new.txt\n    published: 2019-02-11\n    outlet: Test\n"
                 "    note: added by an operator\n")
    assert known_count() == before + 1


def test_a_running_service_picks_up_a_new_seed_at_the_next_reload(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    service = build(load_settings(write_config(tmp_path, feeds=[], baseline=seeds)), env={})
    try:
        service.pipeline.start()
        before = len(findings.known_findings(service.engine))
        assert service.pipeline.reload_rules() == [] and not service.pipeline.load_baseline()
        (seeds / "005_new.txt").write_text(
            "Secretary of State Mike Pompeo will travel to Reykjavik, Iceland, on February 15, "
            "the State Department said on Monday.\n")
        with open(seeds / "manifest.yaml", "a") as fh:
            fh.write("  - file: 005_new.txt\n    published: 2019-02-11\n    outlet: Test\n")
        service.pipeline.reload_rules()  # what the service's 5-second job and SIGHUP run
        assert len(findings.known_findings(service.engine)) == before + 1
    finally:
        service.close()
