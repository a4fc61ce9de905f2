"""Near-duplicates: a reprint of an alerted story adds a source to it (chat.update), a reprint of
a seed is known; neither alerts again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.conftest import ROOT, write_config
from tests.slack_standin import SlackStandIn
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import findings, repo
from watcher.types import Article

WIRE = (
    "Secretary of State Mike Pompeo will travel to Canberra and Wellington from November 4 to 6, "
    "the State Department said on Friday. In Canberra he will hold annual talks with Australian "
    "ministers on defence, trade and the security of the Pacific, and in Wellington he will meet "
    "the prime minister and the foreign minister. Officials said the trip would also cover "
    "cooperation on North Korea sanctions and maritime patrols in the region, and that Pompeo "
    "would give a speech on the administration's Indo-Pacific strategy before flying home."
)
PUBLISHED = datetime(2018, 10, 26, 15, 0, tzinfo=UTC)


def test_reprints_add_sources_and_seed_reprints_stay_quiet(tmp_path):
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url)
        service = build(load_settings(cfg), env={"SLACK_BOT_TOKEN": "xoxb-test"})
        pipeline = service.pipeline
        try:
            pipeline.start()
            pipeline.analyse(Article("https://meridian.test/a", "Pompeo to visit Australia",
                                     WIRE, PUBLISHED, outlet="Meridian Post"))
            service.delivery.deliver()
            assert len(slack.messages) == 1
            assert "1 outlet" in json.dumps(slack.messages[0]["blocks"])

            reprint = WIRE.replace("the State Department said on Friday",
                                   "the State Department said Friday, according to wire reports")
            second = pipeline.analyse(Article("https://lakeside.test/b", "Pompeo heads Down Under",
                                              reprint, PUBLISHED, outlet="Lakeside Herald"))
            service.delivery.deliver()
            assert len(slack.messages) == 1  # no second alert
            assert len(slack.updates) == 1  # the first one now counts two outlets
            assert "2 outlets" in json.dumps(slack.updates[0]["blocks"])
            [finding] = findings.list_findings(service.engine, article_id=second)
            assert finding.origin == "article" and finding.kind == "known"

            seed = (ROOT / "seeds" / "004_f42b8e4dd3eeaf1b.txt").read_text()
            seed = seed.replace("White House says second summit with North Korea to take place "
                                "next month", "Second summit set for late February, White House")
            third = pipeline.analyse(Article("https://other.test/c", "Second summit in February",
                                             seed, datetime(2019, 1, 18, 20, tzinfo=UTC),
                                             outlet="Other Daily"))
            service.delivery.deliver()
            assert len(slack.messages) == 1 and len(slack.updates) == 1
            with service.engine.connect() as conn:
                reasons = [r[0] for r in conn.exec_driver_sql(
                    f"SELECT reason FROM findings WHERE article_id = {third}")]
                dup_origin = conn.exec_driver_sql(
                    "SELECT d.origin, d.url FROM articles a JOIN articles d "
                    f"ON d.id = a.duplicate_of WHERE a.id = {third}").first()
                alerts = conn.exec_driver_sql(
                    "SELECT count(*) FROM alerts JOIN findings ON findings.id = alerts.finding_id "
                    f"WHERE findings.article_id = {third}").scalar()
            assert tuple(dup_origin) == ("seed", "seed:004_f42b8e4dd3eeaf1b.txt")
            assert reasons and alerts == 0
        finally:
            service.close()


def test_an_article_committed_after_a_later_id_is_still_indexed(pg_url):
    """Ids are handed out at insert but seen at commit: a running worker's index must still
    pick up a lower id that becomes visible after a higher one (two workers' transactions on
    PostgreSQL, the first committing last)."""
    from watcher.dedup import signature
    from watcher.reprints import Reprints
    from watcher.store.db import make_engine, migrate

    engine = make_engine(pg_url)
    migrate(engine)
    other = WIRE.replace("Canberra", "Ottawa").replace("Wellington", "Mexico City")
    worker = Reprints(engine, clock=lambda: PUBLISHED)
    worker.refresh()
    with engine.begin() as slow:  # worker 1: A gets the lower id, commits last
        a_id, _ = repo.save_article(slow, Article("https://a.test/a", "A", WIRE, PUBLISHED),
                                    "feed", PUBLISHED, signature=signature(WIRE))
        b_id, _ = repo.save_article(engine, Article("https://a.test/b", "B", other, PUBLISHED),
                                    "feed", PUBLISHED, signature=signature(other))  # worker 2
        assert a_id < b_id
        worker.refresh()  # sees B only
        assert b_id in worker.index and a_id not in worker.index
    reprint = WIRE.replace("on Friday", "on Friday afternoon")
    found = worker.lookup(signature(reprint))
    assert found is not None and found.article_id == a_id
    # An article without a signature (too short) is looked at once, not at every refresh.
    short_id, _ = repo.save_article(engine, Article("https://a.test/s", "S", "short", PUBLISHED),
                                    "feed", PUBLISHED)
    worker.refresh()
    assert short_id not in worker._tail.gaps() and short_id not in worker.index


def test_the_index_keeps_seeds_and_recent_articles_and_evicts_older_ones(tmp_path):
    from datetime import timedelta

    from watcher.dedup import signature
    from watcher.reprints import Reprints
    from watcher.store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    now = [PUBLISHED]
    a_id, _ = repo.save_article(engine, Article("https://a.test/a", "A", WIRE, PUBLISHED),
                                "feed", PUBLISHED, signature=signature(WIRE))
    worker = Reprints(engine, window=timedelta(days=14), clock=lambda: now[0])
    reprint = signature(WIRE.replace("Friday", "Friday night"))
    assert worker.lookup(reprint).article_id == a_id
    now[0] = PUBLISHED + timedelta(days=15)  # no longer a reprint (the rules still judge it)
    assert worker.lookup(reprint) is None
    assert a_id not in worker.index  # its memory is freed
    fresh = Reprints(engine, window=timedelta(days=14), clock=lambda: now[0])
    assert fresh.lookup(reprint) is None  # and a new worker does not load it
