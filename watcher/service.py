"""Builds a running watcher from its settings: engine, notifier, delivery, pipeline."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from watcher import redact
from watcher.actions import Actions
from watcher.deliver import Delivery
from watcher.errors import RuleError
from watcher.notify import make_notifier
from watcher.notify.base import Notifier
from watcher.observe import Health, Metrics
from watcher.pipeline import Pipeline, worker_name
from watcher.schedule import tick_seconds_for
from watcher.settings import Settings
from watcher.socket_mode import SocketMode
from watcher.store.db import make_engine
from watcher.types import Alert, AlertKind

log = logging.getLogger("watcher")


@dataclass
class Service:
    settings: Settings
    engine: Engine
    notifier: Notifier
    delivery: Delivery
    pipeline: Pipeline
    metrics: Metrics
    health: Health
    actions: Actions | None = None  # Slack's buttons (``watcher.actions``)
    socket: SocketMode | None = None  # Socket Mode, with SLACK_APP_TOKEN

    def close(self) -> None:
        self.pipeline.close()
        self.engine.dispose()


def build(settings: Settings, env: Mapping[str, str] | None = None,
          notifier: Notifier | None = None) -> Service:
    env = os.environ if env is None else env
    redact.register_url(settings.database_url)
    redact.register_environment(env)
    engine = make_engine(settings.database_url)
    if notifier is None:
        notifier, warning = make_notifier(settings.slack, env)
        if warning:
            log.warning(warning)
    owner = worker_name()
    delivery = Delivery(engine, notifier, settings.slack, owner=owner + "/deliver",
                        lease=min(120, settings.schedule.lease))

    def tell_operators(errors: list[RuleError]) -> None:
        channel = settings.slack.operator_channel
        if not channel:
            return
        text = "\n".join(str(e) for e in errors)
        alert = Alert(id=0, kind=AlertKind.NEW, rule_id="watcher", channel=channel,
                      summary=f"{len(errors)} rule file(s) rejected; last good rules stay live",
                      article_url="", article_title="", evidence=text, severity="warning")
        result = notifier.send(alert)
        if result.outcome != "sent":
            log.error("could not tell operators about rule errors: %s", result.reason)

    pipeline = Pipeline(settings, engine, delivery, owner=owner, on_rule_errors=tell_operators)
    # A first poll of many feeds can take minutes: unhealthy means no cycle finished for
    # ten minutes (or ten ticks), or the database does not answer.
    health = Health(engine, max_cycle_age=max(600.0, 10 * tick_seconds_for(settings)))
    actions = Actions(engine, delivery, settings, env)
    app_token = (env.get("SLACK_APP_TOKEN") or "").strip()
    socket = SocketMode(app_token, settings.slack, actions) if app_token else None
    return Service(settings, engine, notifier, delivery, pipeline, Metrics(), health, actions,
                   socket)
