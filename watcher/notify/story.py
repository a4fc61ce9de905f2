"""A story's message: its current state (status, when, where, outlets), the latest change, who
muted it or marked it not news, and its buttons. Pure functions, like ``render``.

A thread's first message shows the state of each story of the thread (one usually; several
when one article reported several developments) and is edited in place as they develop. In a
digest's thread each story has a message of its own (its *card*), which the digest links to.

The buttons are Block Kit ``actions`` built with slack_sdk's models; each carries the story's
development id as its ``value``:

    mute       no posts for this story for [slack] mute_hours
    not_news   the story is dismissed (its follow-ups never post) and its article becomes a
               rule-test case in rules/tests/inbox/
    undo       (after a press) reverses it; its value is "<action>:<development id>"
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from watcher.notify.render import (
    MAX_BLOCKS,
    TEXT_BUDGET,
    _block_texts,
    _change_line,
    _context,
    _context_parts,
    _header,
    _pack,
    _section,
    _source_text,
    cut,
    cut_raw,
    emphasise,
    escape,
    link,
    one_line,
    render_message,
    render_plain,
)
from watcher.types import Alert, AlertKind, Story

__all__ = ["ACTIONS", "UNDO", "actions_block", "plain", "press_notes", "render", "state_line",
           "user_mention"]

ACTIONS = ("mute", "not_news")
UNDO = "undo"
HIDDEN_FACTS = ("who",)  # the same for every story of a rule: not part of its state line
STATE_FIRST = ("status", "when", "where")
MAX_STORIES = 8  # shown in one message (up to 4 blocks each: 50 blocks in all)


def user_mention(user: str | None) -> str:
    """``<@U…>`` for a Slack user id (letters and digits only), else a plain word."""
    if user and 2 <= len(user) <= 32 and user.isascii() and user.isalnum() and user.isupper():
        return f"<@{user}>"
    return "someone"


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def state_line(story: Story) -> str:
    """``*Status:* postponed · *When:* … · *Where:* … · Reported by 3 outlets``."""
    names = [n for n in STATE_FIRST if n in story.facts] + \
        [n for n in story.facts if n not in STATE_FIRST and n not in HIDDEN_FACTS]
    parts = []
    for name in names:
        value = one_line(story.facts.get(name))
        if value:
            label = escape(cut_raw(one_line(name), 40)).capitalize()
            parts.append(f"*{label}:* {escape(cut_raw(value, 300))}")
    n = max(story.outlets, 1)
    parts.append(f"Reported by {n} outlet{'s' if n != 1 else ''}")
    return " · ".join(parts)


def press_notes(story: Story, now: datetime | None = None) -> list[str]:
    """Who muted the story or marked it not news, in words."""
    notes = []
    if story.muted_until is not None and (now is None or story.muted_until > now):
        notes.append(f":no_bell: Muted by {user_mention(story.muted_by)} until "
                     f"{_when(story.muted_until)}: no posts for this story until then")
    if story.dismissed:
        when = f" on {_when(story.dismissed_at)}" if story.dismissed_at else ""
        notes.append(f":wastebasket: Marked *not news* by {user_mention(story.dismissed_by)}"
                     f"{when}: its follow-ups will not be posted; the article is in the "
                     "rule-test inbox")
    return notes


def actions_block(story: Story, mute_hours: float, now: datetime | None = None
                  ) -> dict[str, Any]:
    """The story's buttons: mute / not news, or undo for what was pressed."""
    value = str(story.development)
    hours = f"{mute_hours:g}"
    buttons = []
    muted = story.muted_until is not None and (now is None or story.muted_until > now)
    if story.dismissed:
        buttons.append(ButtonElement(text="Undo not news", action_id=UNDO,
                                     value=f"not_news:{value}"))
    else:
        if muted:
            buttons.append(ButtonElement(text="Undo mute", action_id=UNDO,
                                         value=f"mute:{value}"))
        else:
            buttons.append(ButtonElement(text=f"Mute {hours} h", action_id="mute", value=value))
        buttons.append(ButtonElement(text="Not news", action_id="not_news", value=value,
                                     style="danger"))
    block = ActionsBlock(block_id=f"story-{value}", elements=buttons)
    out: dict[str, Any] = block.to_dict()
    return out


def render(alert: Alert, reply_broadcast: bool = False, mute_hours: float | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """The keyword arguments of ``chat.postMessage`` for ``alert``: a story message when it
    shows stories (with buttons when ``mute_hours`` is given: someone can press them), a reply
    naming the developments that join its thread, else ``render.render_message``."""
    message = render_message(alert, reply_broadcast=reply_broadcast)
    if alert.stories and (alert.thread_ts is None or alert.kind != AlertKind.UPDATE):
        blocks = _story_blocks(alert, mute_hours, now)
    elif alert.stories:
        blocks = message["blocks"][:-1] + _reply_extra(alert.stories) + message["blocks"][-1:]
    else:
        return message
    blocks = blocks[:MAX_BLOCKS]
    texts = _block_texts([b for b in blocks if b["type"] != "actions"])
    message.update(blocks=blocks, text=cut("\n".join(texts), TEXT_BUDGET))
    return message


def _story_blocks(alert: Alert, mute_hours: float | None,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """The blocks of a story message (``alert.stories``: the stories it shows)."""
    stories = alert.stories[:MAX_STORIES]
    first = stories[0]
    several = len(alert.stories) > 1
    header = first.summary if not several else \
        f"{len(alert.stories)} developments: " + "; ".join(s.summary for s in stories)
    blocks = [_header(header)]
    for story in stories:
        lines = []
        if several:
            lines.append(f"*{escape(cut_raw(one_line(story.summary), 300))}*")
        lines.append(state_line(story))
        if several and story.article_url != first.article_url:
            lines.append(f"First reported: {link(story.article_url, story.article_title)}")
        blocks.append(_section("\n".join(lines)))
        if story.changes:
            # named, not linked: the link is in the reply that reported it
            title = escape(cut_raw(one_line(story.latest_title), 150))
            label = "*Latest change*" + (f" (“{title}”)" if title else "")
            texts, _ = _pack([label] + [_change_line(c) for c in story.changes[:10]], 1)
            blocks.append(_section(texts[0]))
        notes = press_notes(story, now)
        if notes:
            blocks.append(_context(notes))
        if mute_hours is not None:
            blocks.append(actions_block(story, mute_hours, now))
    if len(alert.stories) > MAX_STORIES:
        rest = len(alert.stories) - MAX_STORIES
        blocks.append(_section(f"_…and {rest} more development{'s' if rest != 1 else ''} "
                               "in this thread_"))
    if first.evidence.strip():
        evidence = emphasise(cut_raw(one_line(first.evidence), 2500), first.matched)
        blocks.append(_section(f"“{evidence}”"))
    blocks.append(_section(_source_text(alert)))
    blocks.append(_context(_context_parts(alert, _updates(first.updates))))
    return blocks


def _updates(n: int) -> str:
    return "no updates yet" if n == 0 else f"{n} update{'s' if n != 1 else ''}"


def plain(alert: Alert, now: datetime | None = None) -> str:
    """``render.render_plain``, with each story's state (and who pressed what) after its
    first line: what the console prints."""
    lines = render_plain(alert).split("\n")
    extra = []
    for story in alert.stories:
        state = state_line(story).replace("*", "")
        extra.append(f"  {story.summary}: {state}" if len(alert.stories) > 1 else f"  {state}")
        extra += [f"  {n.replace('*', '')}" for n in press_notes(story, now)]
    return "\n".join(lines[:1] + extra + lines[1:])


def _reply_extra(joined: Iterable[Story]) -> list[dict[str, Any]]:
    """What a reply adds about the new developments that join the thread with it."""
    lines = [f"• *{escape(cut_raw(one_line(s.summary), 200))}* — "
             f"{state_line(s)}" for s in joined]
    if not lines:
        return []
    texts, _ = _pack(["*Also in this report* (new, followed in this thread):"] + lines, 3)
    return [_section(t) for t in texts]
