"""The rule-test inbox: articles the team marked "not news" in Slack, as negative rule tests.

Each press of a story's *Not news* button writes ``rules/tests/inbox/<rule>-<story>.yaml``: a
rule test file (``watcher.rules.testing``) with one case, the story's first article (title,
text, URL, publication date) and the finding it produced, expecting nothing to be news. The
inbox is not part of ``watcher rules test``; ``watcher rules test --inbox`` runs its cases, so
the operator sees which ones the rules still alert on, fixes the rule, and moves the case into
``rules/tests/``. Undo removes the file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from watcher.types import Article, Story

if TYPE_CHECKING:
    from watcher.store.findings import StoredFinding

__all__ = ["FOLDER", "MAX_TEXT", "case_for", "remove_case", "write_case"]

FOLDER = "inbox"
MAX_TEXT = 20_000  # characters of article text kept in a case


def _name(story: Story) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-"
                   for c in story.rule_id.lower())[:60]
    return f"{safe or 'rule'}-{story.development}.yaml"


def case_for(story: Story, finding: StoredFinding, article: Article | None, user: str,
             now: datetime) -> dict[str, Any]:
    """The rule test file's content: one case that expects nothing to be news."""
    text = article.text if article is not None else ""
    published = (article.published if article is not None else None) or story.published
    return {"tests": [{
        "name": f"not news (story #{story.development}): "
                f"{(article.title if article else story.article_title)[:200]}",
        "published": (published or now).isoformat(),
        "title": article.title if article is not None else story.article_title,
        "text": text[:MAX_TEXT] or story.evidence,
        "url": article.url if article is not None else story.article_url,
        "rules": [story.rule_id],
        "finding": {"rule": finding.rule_id, "kind": str(finding.kind),
                    "summary": finding.summary, "reason": finding.reason,
                    "facts": {k: v for k, v in finding.display.items() if v}},
        "marked_by": f"{user} on {now.isoformat()}",
        "expect": [],
    }]}


def write_case(folder: Path, story: Story, finding: StoredFinding, article: Article | None,
               user: str, now: datetime) -> Path:
    """Write the story's case into ``folder`` (atomically); returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _name(story)
    body = ("# Marked \"not news\" in Slack. Review it: when the rule should not find this,\n"
            "# change the rule and move this file into rules/tests/. Run it with\n"
            "# `watcher rules test --inbox`.\n")
    body += yaml.safe_dump(case_for(story, finding, article, user, now), sort_keys=False,
                           allow_unicode=True, width=100)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".inbox-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_case(path: Path, folder: Path) -> bool:
    """Remove a case this inbox wrote (nothing outside ``folder``)."""
    try:
        if path.resolve().parent != folder.resolve():
            return False
        path.unlink()
        return True
    except OSError:
        return False
