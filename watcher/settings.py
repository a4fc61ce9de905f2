"""The TOML config: one strict loader for the service, the CLI and the tests.

Unknown keys are errors (a typo must not silently fall back to a default). Relative paths and
SQLite file URLs resolve against the config file's folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from watcher.errors import ConfigError
from watcher.redact import register, register_url

DEFAULT_CONFIG = "watcher.toml"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///watcher.db"


@dataclass(frozen=True)
class SlackSettings:
    channel: str = "#news-alerts"
    base_url: str = "https://slack.com/api/"
    operator_channel: str = ""  # rule-file errors go here when set
    timeout: float = 10.0
    pace: float = 1.0  # seconds between two messages to one channel (Slack allows ~1/s)
    digest_after: int = 5  # more alerts than this for one rule within digest_window: a digest
    digest_window: int = 600  # seconds
    broadcast_updates: bool = False  # also show thread replies (updates) in the channel
    once_wait: float = 30.0  # seconds `run --once` may wait in all for Slack (Retry-After)
    mute_hours: float = 24.0  # the Mute button: no posts for the story for this long


@dataclass(frozen=True)
class RulesSettings:
    path: str = "rules"
    silence_days: int = 14  # a rule that matched nothing this long is reported; 0: never


@dataclass(frozen=True)
class HeartbeatSettings:
    url: str = ""  # GET after each successful cycle (a dead-man's switch); secret-bearing
    timeout: float = 5.0  # seconds for the heartbeat request
    interval: int = 0  # 0: after every successful cycle; N: at most one request per N seconds
    daily_summary: str = ""  # "HH:MM" (UTC): a summary to [slack] operator_channel each day


@dataclass(frozen=True)
class BaselineSettings:
    path: str = "seeds"


@dataclass(frozen=True)
class FetchSettings:
    allow_private_addresses: bool = False
    connect_timeout: float = 5.0
    timeout: float = 20.0  # whole request, body included
    max_bytes: int = 5_000_000  # after decompression
    max_redirects: int = 5
    user_agent: str = "watcher/0.1 (+https://github.com/watcher)"
    extract_timeout: float = 20.0  # seconds per page in the extraction worker
    max_entries_per_poll: int = 200  # entries taken from one feed per poll, newest first
    max_per_host: int = 2  # requests to one host at the same time
    extract_workers: int = 0  # extraction processes; 0: one per core


@dataclass(frozen=True)
class ScheduleSettings:
    interval: int = 300  # seconds between polls of a feed, unless the feed says otherwise
    lease: int = 300  # seconds a worker holds claimed work; a dead worker's returns after it
    backlog_after: int = 86400  # seconds: entries published longer before they were seen wait


@dataclass(frozen=True)
class HttpSettings:
    listen: str = ""  # e.g. "127.0.0.1:9464" or "[::1]:9464" for /healthz and /metrics
    timeout: float = 10.0  # seconds a client may take to send a request or read the answer


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "auto"  # auto (human on a terminal, JSON otherwise) | human | json


@dataclass(frozen=True)
class RetentionSettings:
    article_text_days: int = 90  # full text of older articles is pruned; findings stay


@dataclass(frozen=True)
class FeedSettings:
    url: str
    interval: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Settings:
    path: Path  # the config file (or where it would be)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    log: LogSettings = field(default_factory=LogSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    heartbeat: HeartbeatSettings = field(default_factory=HeartbeatSettings)
    feeds: tuple[FeedSettings, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def rules_dir(self) -> Path:
        return self.resolve(self.rules.path)

    @property
    def baseline_dir(self) -> Path:
        return self.resolve(self.baseline.path)

    @property
    def database_url(self) -> str:
        return resolve_sqlite_url(self.database.url, self.base_dir)


_SECTIONS: dict[str, type] = {
    "database": DatabaseSettings,
    "slack": SlackSettings,
    "rules": RulesSettings,
    "baseline": BaselineSettings,
    "fetch": FetchSettings,
    "schedule": ScheduleSettings,
    "http": HttpSettings,
    "log": LogSettings,
    "retention": RetentionSettings,
    "heartbeat": HeartbeatSettings,
}


def resolve_sqlite_url(url: str, base: Path) -> str:
    """``sqlite:///relative.db`` is relative to the config's folder, not the process's."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not rest.startswith(("file:", "/")):
            return prefix + str((base / rest).resolve())
    return url


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("WATCHER_CONFIG") or DEFAULT_CONFIG).resolve()


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the config. A missing default config means all defaults."""
    p = config_path(str(path) if path else None)
    if not p.exists():
        if path or os.environ.get("WATCHER_CONFIG"):
            raise ConfigError(f"{p}: config file not found")
        return Settings(path=p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    settings = settings_from_dict(raw, p)
    register_url(settings.database.url)  # never shown from here on (watcher.redact)
    register(settings.heartbeat.url)  # its path or query carries the monitor's secret
    return settings


def settings_from_dict(raw: dict[str, Any], path: Path) -> Settings:
    kwargs: dict[str, Any] = {"path": path}
    for name, value in raw.items():
        if name == "feeds":
            if not isinstance(value, list):
                raise ConfigError(f"{path}: 'feeds' must be an array of tables ([[feeds]])")
            kwargs["feeds"] = tuple(
                _section(FeedSettings, item, f"feeds[{i}]", path) for i, item in enumerate(value)
            )
        elif name in _SECTIONS:
            kwargs[name] = _section(_SECTIONS[name], value, name, path)
        else:
            known = ", ".join(sorted([*_SECTIONS, "feeds"]))
            raise ConfigError(f"{path}: unknown section [{name}] (known: {known})")
    settings = Settings(**kwargs)
    _check_values(settings, path)
    return settings


def daily_time(text: str) -> tuple[int, int] | None:
    """``"09:00"`` -> (9, 0); None when it is not a time of day."""
    hours, sep, minutes = text.partition(":")
    if sep and len(hours) in (1, 2) and len(minutes) == 2 and hours.isdigit() \
            and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60:
        return int(hours), int(minutes)
    return None


def _check_values(s: Settings, path: Path) -> None:
    hb = s.heartbeat
    if hb.url and not hb.url.startswith(("http://", "https://")):
        raise ConfigError(f"{path}: [heartbeat] url must be an http:// or https:// URL")
    if hb.daily_summary and daily_time(hb.daily_summary) is None:
        raise ConfigError(f"{path}: [heartbeat] daily_summary must be a time of day, HH:MM "
                          f"(UTC), got {hb.daily_summary!r}")
    if hb.daily_summary and not s.slack.operator_channel:
        raise ConfigError(f"{path}: [heartbeat] daily_summary needs [slack] operator_channel "
                          "(where the summary goes)")
    if hb.interval < 0:
        raise ConfigError(f"{path}: [heartbeat] interval must be 0 or more")
    if hb.timeout <= 0:
        raise ConfigError(f"{path}: [heartbeat] timeout must be above 0")
    if s.rules.silence_days < 0:
        raise ConfigError(f"{path}: [rules] silence_days must be 0 (never) or more")
    if s.fetch.extract_workers < 0:
        raise ConfigError(f"{path}: [fetch] extract_workers must be 0 (one per core) or more")
    if s.schedule.backlog_after < 0:
        raise ConfigError(f"{path}: [schedule] backlog_after must be 0 (no backlog) or more")


def _section(cls: type, value: Any, where: str, path: Path) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{where}] must be a table")
    allowed = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, v in value.items():
        f = allowed.get(key)
        if f is None:
            raise ConfigError(
                f"{path}: unknown key '{key}' in [{where}] (known: {', '.join(allowed)})"
            )
        out[key] = _check_type(v, f.type, f"{where}.{key}", path)
    try:
        return cls(**out)
    except TypeError as exc:
        raise ConfigError(f"{path}: [{where}] {exc}") from exc


def _check_type(value: Any, annotation: Any, where: str, path: Path) -> Any:
    ann = str(annotation)
    if ann.startswith("bool"):
        ok = isinstance(value, bool)
    elif ann.startswith("int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok or (value is None and "None" in ann)
    elif ann.startswith("float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str) or (value is None and "None" in ann)
    if not ok:
        raise ConfigError(f"{path}: '{where}' must be {ann.split(' ')[0]}, got {value!r}")
    return value
