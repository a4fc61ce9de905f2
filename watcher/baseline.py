"""The baseline: seed documents listed in ``seeds/manifest.yaml``, read as Articles.

The manifest records what the texts do not say reliably: publication date, outlet, a note.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import yaml

from watcher.errors import ConfigError
from watcher.types import Article

MANIFEST = "manifest.yaml"
_KEYS = {"file", "published", "published_approximate", "outlet", "note", "title"}


def load_seeds(folder: Path) -> list[Article]:
    """Every document of the manifest, in manifest order. Errors name the manifest and entry."""
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise ConfigError(f"{manifest}: baseline manifest not found")
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{manifest}: not valid YAML: {exc}") from exc
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, list):
        raise ConfigError(f"{manifest}: expected a 'documents' list")
    out = []
    for i, doc in enumerate(docs):
        where = f"{manifest}: documents[{i}]"
        if not isinstance(doc, dict) or "file" not in doc or "published" not in doc:
            raise ConfigError(f"{where}: needs 'file' and 'published'")
        unknown = set(doc) - _KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        path = folder / str(doc["file"])
        if not path.exists():
            raise ConfigError(f"{where}: file {path.name} not found")
        text = path.read_text(encoding="utf-8")
        published = _as_datetime(doc["published"], where)
        title = doc.get("title") or text.strip().splitlines()[0][:200]
        out.append(Article(url=f"seed:{path.name}", title=title, text=text,
                           published=published, outlet=doc.get("outlet")))
    return out


def _as_datetime(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(12, 0), tzinfo=UTC)
    try:
        return _as_datetime(datetime.fromisoformat(str(value)), where)
    except ValueError as exc:
        raise ConfigError(f"{where}: 'published' is not a date: {value!r}") from exc
