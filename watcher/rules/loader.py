"""The one strict loader for rule files: the service, ``watcher rules check`` and tests use it.

Validation walks PyYAML's composed nodes, so every error names the file, the line and the key.
Unknown keys are errors; nothing falls back to a default silently.
"""

from __future__ import annotations

import hashlib
import re
import string
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from watcher.errors import RuleError, RuleErrors
from watcher.facts import gazetteer, places
from watcher.facts.lexicon import CUE_KINDS, STATUS_ORDER
from watcher.facts.status import STATUSES
from watcher.match.prefilter import phrase_key
from watcher.rules.nodes import NodeReader as _File
from watcher.rules.places_file import PLACES_FILE, load_places
from watcher.rules.schema import (
    CONDITION_OPS,
    FACT_SCOPES,
    FACT_TYPES,
    SCOPES,
    SEVERITIES,
    Check,
    Condition,
    FactSpec,
    Rule,
    RuleSet,
)

RULE_KEYS = ("id", "description", "aliases", "alert", "terms", "ignore", "event", "match",
             "require", "exclude", "status", "cues", "facts", "novelty", "silence_days")
ALERT_KEYS = ("channel", "severity", "summary")
NOVELTY_KEYS = ("key", "date_slack", "places", "alert_on", "recent_days")
PLACE_IDENTITY = ("overlap", "any")
WordLists = tuple[tuple[str, tuple[str, ...]], ...]  # status: or cues: (kind, phrases)
Novelty = tuple[tuple[str, ...], tuple[str, ...], int, int, str]  # key, alert_on, recent,
# date_slack, places
# "happened" reads better than "held" for one-off events; both name the same status.
STATUS_SYNONYMS = {"happened": "held"}
CHECK_KEYS = ("if", "in", "because")
FACT_KEYS = ("type", "required", "scope", "value", "outside", "home", "home_needs", "terms")
NEAR_KEYS = ("terms", "words", "ordered")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$")


def load_rule_file(path: Path, warnings: list[RuleError] | None = None) -> list[Rule]:
    """Parse and validate one rule file. Raises ``RuleError`` naming file, line and key
    (``RuleErrors`` when there are several: every error the file has). Warnings (an unused
    term list, a term that looks like a pattern, a bare yes/no) go to ``warnings``."""
    path = Path(path)
    f = _File(str(path))
    try:
        return _load(path, f)
    finally:
        if warnings is not None:
            warnings.extend(f.warnings)


def _load(path: Path, f: _File) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(str(path), None, f"cannot read rule file: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(str(path), line, f"not valid YAML: {problem}",
                        hint="check indentation, colons and quotes") from exc
    if root is None:
        raise RuleError(str(path), 1, "the rule file is empty", hint="start with 'id: my-rule'")
    if not isinstance(root, MappingNode):
        raise f.error(root, "a rule file must be a mapping (id: ..., terms: ..., match: ...)",
                      hint="start the file with 'id: my-rule'")
    keys = {k.value for k, _ in root.value if isinstance(k, ScalarNode)}
    if "rules" in keys:
        top = f.mapping(root, "the file", ("rules",))
        _, seq = top["rules"]
        if not isinstance(seq, SequenceNode) or not seq.value:
            raise f.error(seq, "'rules' must be a non-empty list of rules", key="rules")
        found = [f.attempt(partial(_rule, f, node), None) for node in seq.value]
    else:
        found = [f.attempt(lambda: _rule(f, root), None)]
    rules = [r for r in found if r is not None]
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            f.errors.append(RuleError(str(path), rule.line, f"duplicate rule id '{rule.id}'",
                                      key="id",
                                      hint=f"already defined on line {seen[rule.id].line}"))
        seen[rule.id] = rule
    if len(f.errors) == 1:
        raise f.errors[0]
    if f.errors:
        raise RuleErrors(f.errors)
    return rules


def _rule(f: _File, node: Node) -> Rule | None:
    """One rule, or None when it has errors (each recorded on ``f``: all of them, not only the
    first, so an operator fixes a file in one go)."""
    m = f.mapping(node, "the rule", RULE_KEYS)
    before = len(f.errors)
    for required in ("id", "terms", "match", "facts"):
        if required not in m:
            f.errors.append(f.error(node, f"missing required key '{required}'", key=required,
                                    hint="see docs/rules.md for a complete example"))
    rule_id: str = f.attempt(lambda: _rule_id(f, m["id"][1]), "") if "id" in m else ""
    description: str = f.attempt(lambda: f.string(m["description"][1], "description"), "") \
        if "description" in m else ""
    no_terms: tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]] = ({}, {})
    terms, canonical = f.attempt(lambda: _terms(f, m["terms"][1]), no_terms) \
        if "terms" in m else no_terms
    ignore: tuple[str, ...] = f.attempt(lambda: tuple(
        _ref(f, n, v, terms) for n, v in f.strings(m["ignore"][1], "ignore")), ()) \
        if "ignore" in m else ()
    match: Condition | None = f.attempt(lambda: _condition(f, m["match"][1], "match", terms),
                                        None) \
        if "match" in m else None
    require: tuple[Check, ...] = f.attempt(
        lambda: _checks(f, m["require"][1], "require", terms), ()) \
        if "require" in m else ()
    exclude: tuple[Check, ...] = f.attempt(
        lambda: _checks(f, m["exclude"][1], "exclude", terms), ()) \
        if "exclude" in m else ()
    facts: tuple[FactSpec, ...] = f.attempt(lambda: _facts(f, m["facts"][1], terms), ()) \
        if "facts" in m else ()
    names: set[str] = {fact.name for fact in facts}
    aliases: tuple[str, ...] = f.attempt(lambda: _aliases(f, m["aliases"][1], rule_id), ()) \
        if "aliases" in m else ()
    event: tuple[str, ...] = f.attempt(lambda: _event(f, m["event"][1], terms), ()) \
        if "event" in m else ()
    status_words: WordLists = f.attempt(
        lambda: _word_lists(f, m["status"][1], "status", _STATUS_KEYS), ()) \
        if "status" in m else ()
    cue_words: WordLists = f.attempt(lambda: _word_lists(f, m["cues"][1], "cues", CUE_KINDS),
                                     ()) \
        if "cues" in m else ()
    no_alert: tuple[str | None, str, str] = (None, "info", "")
    channel, severity, summary = f.attempt(lambda: _alert(f, m["alert"][1], names), no_alert) \
        if "alert" in m else no_alert
    novelty: Novelty | None = f.attempt(lambda: _novelty(f, m["novelty"][1], names), None) \
        if "novelty" in m else None
    key, alert_on, recent_days, date_slack, places = novelty or (
        tuple(sorted(names - {"status"})), STATUSES, 14, 2, "overlap")
    silence_days: int | None = f.attempt(lambda: _silence_days(f, m["silence_days"][1]), None) \
        if "silence_days" in m else None
    if "terms" in m:
        _lint(f, m, terms, match, require, exclude, ignore, event, facts)
    if len(f.errors) > before or match is None:
        return None
    return Rule(id=rule_id, file=f.name, line=node.start_mark.line + 1, description=description,
                terms=terms, match=match, facts=facts, channel=channel, severity=severity,
                summary=summary, ignore=ignore, require=require, exclude=exclude, key=key,
                alert_on=alert_on, recent_days=recent_days, event=event,
                status_words=status_words, cue_words=cue_words, date_slack=date_slack,
                places=places, aliases=aliases, canonical=canonical, silence_days=silence_days)




def _silence_days(f: _File, node: Node) -> int:
    days = f.integer(node, "silence_days")
    if days < 0:
        raise f.error(node, "silence_days must be 0 (never report) or more",
                      key="silence_days", hint="days without a match before the operators "
                      "are told; default: the config's [rules] silence_days")
    return days


def _rule_id(f: _File, node: Node) -> str:
    rule_id = f.string(node, "id")
    if not _ID.match(rule_id):
        raise f.error(node, f"rule id '{rule_id}' must be lower-case letters, digits and "
                      "dashes", key="id", hint="e.g. 'pompeo-trip'")
    return rule_id


def _aliases(f: _File, node: Node, rule_id: str) -> tuple[str, ...]:
    items = f.strings(node, "aliases")
    for n, v in items:
        if not _ID.match(v) or v == rule_id:
            raise f.error(n, f"alias '{v}' must be an earlier rule id, not this one",
                          key="aliases", hint="the id this rule had before a rename")
    return tuple(v for _, v in items)


def _event(f: _File, node: Node, terms: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    items = [(node, f.string(node, "event"))] if isinstance(node, ScalarNode) else \
        f.strings(node, "event")
    return tuple(_ref(f, n, v, terms) for n, v in items)


def _alert(f: _File, node: Node, names: set[str]) -> tuple[str | None, str, str]:
    channel, severity, summary = None, "info", ""
    a = f.mapping(node, "alert", ALERT_KEYS)
    if "channel" in a:
        cnode = a["channel"][1]
        if not (isinstance(cnode, ScalarNode) and cnode.tag.endswith(":null")):
            channel = f.string(cnode, "channel")
            if not _CHANNEL.match(channel):
                raise f.error(cnode, f"channel '{channel}' is not a Slack channel",
                              key="channel",
                              hint="write '#name' (lower case, no spaces) or a channel id")
    if "severity" in a:
        severity = f.string(a["severity"][1], "severity")
        if severity not in SEVERITIES:
            raise f.error(a["severity"][1], f"unknown severity '{severity}'", key="severity",
                          hint=f"one of: {', '.join(SEVERITIES)}")
    if "summary" in a:
        summary = f.string(a["summary"][1], "summary")
        _template(f, a["summary"][1], summary, names)
    return channel, severity, summary


def _novelty(f: _File, node: Node, names: set[str]) -> Novelty:
    key: tuple[str, ...] = tuple(sorted(names - {"status"}))
    alert_on: tuple[str, ...] = STATUSES
    recent_days, date_slack, places = 14, 2, "overlap"
    nv = f.mapping(node, "novelty", NOVELTY_KEYS)
    if "key" in nv:
        items = f.strings(nv["key"][1], "key")
        for n, v in items:
            if v not in names:
                raise f.error(n, f"key uses fact '{v}', which this rule does not extract",
                              key="key", hint=f"facts: {', '.join(sorted(names))}")
        key = tuple(v for _, v in items)
    if "alert_on" in nv:
        items = f.strings(nv["alert_on"][1], "alert_on")
        for n, v in items:
            if STATUS_SYNONYMS.get(v, v) not in STATUSES:
                raise f.error(n, f"unknown status '{v}'", key="alert_on",
                              hint=f"one of: {', '.join(STATUSES)}")
        alert_on = tuple(STATUS_SYNONYMS.get(v, v) for _, v in items)
    if "date_slack" in nv:
        date_slack = f.integer(nv["date_slack"][1], "date_slack")
        if date_slack < 0:
            raise f.error(nv["date_slack"][1], "date_slack must be 0 or more",
                          key="date_slack", hint="days two dates may differ by and still "
                          "be the same development")
    if "places" in nv:
        places = f.string(nv["places"][1], "places")
        if places not in PLACE_IDENTITY:
            raise f.error(nv["places"][1], f"unknown places rule '{places}'", key="places",
                          hint="overlap (places must overlap) or any (only dates tell)")
    if "recent_days" in nv:
        recent_days = f.integer(nv["recent_days"][1], "recent_days")
        if recent_days < 0:
            raise f.error(nv["recent_days"][1], "recent_days must be 0 or more",
                          key="recent_days", hint="days before publication that still count")
    return key, alert_on, recent_days, date_slack, places


def _scalars(node: Node) -> list[ScalarNode]:
    """Every scalar under a node (breadth first, with a bound on what a rule file holds)."""
    out: list[ScalarNode] = []
    todo = [node]
    while todo and len(out) < 10_000:
        n = todo.pop()
        if isinstance(n, ScalarNode):
            out.append(n)
        elif isinstance(n, SequenceNode):
            todo.extend(n.value)
        elif isinstance(n, MappingNode):
            todo.extend(v for pair in n.value for v in pair)
    return out


# Characters that mean something in a regular expression or a glob, never in a word.
_PATTERN_CHARS = frozenset("\\^$*?+|[](){}")


def _lint(f: _File, m: dict[str, tuple[Node, Node]], terms: dict[str, tuple[str, ...]],
          match: Condition | None, require: tuple[Check, ...], exclude: tuple[Check, ...],
          ignore: tuple[str, ...], event: tuple[str, ...], facts: tuple[FactSpec, ...]
          ) -> None:
    """Warnings: what loads, but is probably not what the operator meant."""
    used = (match.term_names() if match is not None else set()) | set(ignore) | set(event)
    if match is None and "match" in m:  # broken: what it names is used
        used |= {n.value for n in _scalars(m["match"][1]) if isinstance(n.value, str)}
    for check in (*require, *exclude):
        used |= check.condition.term_names()
    for fact in facts:
        used |= {n for n in (fact.terms, fact.home_needs) if n}
    tnode = m["terms"][1]
    for knode, vnode in tnode.value if isinstance(tnode, MappingNode) else ():
        name = knode.value
        if name in terms and name not in used:
            f.warn(knode, f"term list '{name}' is not used by match, require, exclude, ignore, "
                   "event or a fact", key=name, hint="remove it, or name it where it counts")
        items = vnode.value if isinstance(vnode, SequenceNode) else []
        for item in items:
            value = item.value if isinstance(item, ScalarNode) else None
            if isinstance(value, str) and (_PATTERN_CHARS & set(value) or ".*" in value):
                f.warn(item, f"term {value!r} in '{name}' looks like a pattern; terms are words "
                       "matched as written", key=name,
                       hint="list each form as its own term (missile, missiles)")


_STATUS_KEYS = (*STATUS_ORDER, *STATUS_SYNONYMS)


def _word_lists(f: _File, node: Node, where: str, allowed: tuple[str, ...]) -> WordLists:
    """``status:`` or ``cues:``: a mapping of kind -> list of words and phrases."""
    m = f.mapping(node, where, allowed)
    out = []
    for kind, (_k, vnode) in m.items():
        items = f.strings(vnode, kind)
        for n, phrase in items:
            if not any(ch.isalnum() or ch == "#" for ch in phrase):
                raise f.error(n, f"{where} phrase {phrase!r} has no letters", key=kind)
        out.append((STATUS_SYNONYMS.get(kind, kind), tuple(p for _, p in items)))
    return tuple(out)


def _terms(f: _File, node: Node) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """Term lists, and for lists written with named entries (``- ICBM: [Hwasong-15, ...]``)
    each phrase's entry name."""
    if not isinstance(node, MappingNode) or not node.value:
        raise f.error(node, "'terms' must be a mapping of named term lists", key="terms",
                      hint="e.g. 'pompeo: [Pompeo, Mike Pompeo]'")
    out: dict[str, tuple[str, ...]] = {}
    names: dict[str, dict[str, str]] = {}
    for knode, vnode in node.value:  # each list on its own: every broken one is reported
        f.attempt(partial(_term_list, f, knode, vnode, out, names), None)
    return out, names


def _term_list(f: _File, knode: Node, vnode: Node, out: dict[str, tuple[str, ...]],
               names: dict[str, dict[str, str]]) -> None:
    if True:
        name = knode.value if isinstance(knode, ScalarNode) else ""
        if not isinstance(name, str) or not _NAME.match(name):
            raise f.error(knode, f"term list name {name!r} must be a word (letters, digits, _)",
                          key="terms")
        if name in out:
            raise f.error(knode, f"duplicate term list '{name}'", key=name)
        if isinstance(vnode, SequenceNode) and not vnode.value:
            raise f.error(vnode, f"term list '{name}' is empty", key=name,
                          hint="list at least one word or phrase")
        if not isinstance(vnode, SequenceNode):
            f.strings(vnode, name)  # raises the usual "must be a list"
        phrases: list[str] = []
        for item in vnode.value:
            if isinstance(item, MappingNode):
                entry = _named_entry(f, item, name)
                for phrase in entry[1]:
                    names.setdefault(name, {})[phrase_key(phrase)] = entry[0]
                phrases += entry[1]
                continue
            phrase = f.string(item, name)
            if not any(ch.isalnum() for ch in phrase):
                raise f.error(item, f"term {phrase!r} in '{name}' has no letters", key=name)
            phrases.append(phrase)
        out[name] = tuple(phrases)


def _named_entry(f: _File, node: MappingNode, name: str) -> tuple[str, list[str]]:
    """``- ICBM: [intercontinental ballistic missile, Hwasong-15]``: the entry ICBM, named by
    itself and by each phrase of its list."""
    if len(node.value) != 1:
        raise f.error(node, f"a named entry in '{name}' has one name and its list of phrases",
                      key=name, hint="- ICBM: [intercontinental ballistic missile, Hwasong-15]")
        # (unreachable)
    knode, vnode = node.value[0]
    entry = f.string(knode, name)
    phrases = [entry] + [p for _, p in f.strings(vnode, entry)]
    for phrase in phrases:
        if not any(ch.isalnum() for ch in phrase):
            raise f.error(vnode, f"term {phrase!r} in '{name}' has no letters", key=name)
    return entry, phrases


def _ref(f: _File, node: Node, name: str, terms: dict[str, tuple[str, ...]]) -> str:
    if name not in terms:
        raise f.error(node, f"unknown term list '{name}'", key=name,
                      hint=f"defined under 'terms': {', '.join(terms)}")
    return name


def _condition(f: _File, node: Node, where: str, terms: dict[str, tuple[str, ...]]) -> Condition:
    if isinstance(node, ScalarNode):
        return Condition("term", term=_ref(f, node, f.string(node, where), terms))
    if isinstance(node, SequenceNode):
        raise f.error(node, f"'{where}' must be a term name or a mapping with all/any/none/near",
                      key=where, hint="wrap a list in 'all:' or 'any:'")
    m = f.mapping(node, where, CONDITION_OPS)
    if not m:
        raise f.error(node, f"'{where}' is empty", key=where, hint="use all/any/none/near")
    parts: list[Condition] = []
    for op, (_knode, vnode) in m.items():
        if op == "near":
            parts.append(_near(f, vnode, terms))
            continue
        if not isinstance(vnode, SequenceNode) or not vnode.value:
            raise f.error(vnode, f"'{op}' must be a non-empty list", key=op,
                          hint="one term name or nested condition per line")
        parsed = [f.attempt(partial(_condition, f, child, op, terms), None)
                  for child in vnode.value]
        children = tuple(c for c in parsed if c is not None)
        parts.append(Condition(op, children=children))
    return parts[0] if len(parts) == 1 else Condition("all", children=tuple(parts))


def _near(f: _File, node: Node, terms: dict[str, tuple[str, ...]]) -> Condition:
    m = f.mapping(node, "near", NEAR_KEYS)
    if "terms" not in m or "words" not in m:
        raise f.error(node, "'near' needs 'terms' (two term lists) and 'words'", key="near",
                      hint="near: {terms: [pompeo, travel], words: 8}")
    names = f.strings(m["terms"][1], "terms")
    if len(names) != 2:
        raise f.error(m["terms"][1], "'near' takes exactly two term lists", key="terms")
    wnode = m["words"][1]
    if not (isinstance(wnode, ScalarNode) and wnode.tag.endswith(":int")) or int(wnode.value) < 1:
        raise f.error(wnode, f"proximity 'words' must be a positive whole number, got "
                      f"{wnode.value!r}", key="words", hint="e.g. words: 8")
    ordered = f.boolean(m["ordered"][1], "ordered") if "ordered" in m else False
    return Condition("near", terms=tuple(_ref(f, n, v, terms) for n, v in names),
                     words=int(wnode.value), ordered=ordered)


def _checks(f: _File, node: Node, where: str, terms: dict[str, tuple[str, ...]]
            ) -> tuple[Check, ...]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise f.error(node, f"'{where}' must be a non-empty list of checks", key=where,
                      hint="- if: opinion\n    in: title")
    found = [f.attempt(partial(_check, f, item, where, terms), None) for item in node.value]
    return tuple(c for c in found if c is not None)


def _check(f: _File, item: Node, where: str, terms: dict[str, tuple[str, ...]]) -> Check:
    m = f.mapping(item, where, CHECK_KEYS)
    if "if" not in m:
        raise f.error(item, f"a '{where}' check needs 'if'", key="if")
    scope = f.string(m["in"][1], "in") if "in" in m else "sentence"
    if scope not in SCOPES:
        raise f.error(m["in"][1], f"unknown scope '{scope}'", key="in",
                      hint=f"one of: {', '.join(SCOPES)}")
    because = f.string(m["because"][1], "because") if "because" in m else ""
    return Check(_condition(f, m["if"][1], "if", terms), scope, because)


def _facts(f: _File, node: Node, terms: dict[str, tuple[str, ...]]) -> tuple[FactSpec, ...]:
    if not isinstance(node, MappingNode) or not node.value:
        raise f.error(node, "'facts' must be a mapping of fact name to extractor", key="facts",
                      hint="e.g. 'where: {type: place}'")
    out: list[FactSpec] = []
    names: set[str] = set()
    for knode, vnode in node.value:  # each fact on its own: every broken one is reported
        fact = f.attempt(partial(_fact, f, knode, vnode, names, terms), None)
        if fact is not None:
            out.append(fact)
    return tuple(out)


def _fact(f: _File, knode: Node, vnode: Node, names: set[str],
          terms: dict[str, tuple[str, ...]]) -> FactSpec:
    if True:
        name = knode.value if isinstance(knode, ScalarNode) else ""
        if not isinstance(name, str) or not _NAME.match(name):
            raise f.error(knode, f"fact name {name!r} must be a word", key="facts")
        if name in names:
            raise f.error(knode, f"duplicate fact '{name}'", key=name)
        names.add(name)
        m = f.mapping(vnode, name, FACT_KEYS)
        if "type" not in m:
            raise f.error(vnode, f"fact '{name}' needs a 'type'", key=name,
                          hint=f"one of: {', '.join(FACT_TYPES)}")
        ftype = f.string(m["type"][1], "type")
        if ftype not in FACT_TYPES:
            raise f.error(m["type"][1], f"unknown fact type (extractor) '{ftype}'", key="type",
                          hint=f"one of: {', '.join(FACT_TYPES)}")
        if name == "status" and ftype != "status":
            raise f.error(m["type"][1], "the fact named 'status' must have type status",
                          key="type")
        value = f.string(m["value"][1], "value") if "value" in m else None
        if ftype == "constant" and value is None:
            raise f.error(vnode, f"constant fact '{name}' needs a 'value'", key="value")
        if ftype != "constant" and value is not None:
            raise f.error(m["value"][1], "'value' only goes with type constant", key="value")
        scope = f.string(m["scope"][1], "scope") if "scope" in m else "neighbours"
        if scope not in FACT_SCOPES:
            raise f.error(m["scope"][1], f"unknown fact scope '{scope}'", key="scope",
                          hint=f"one of: {', '.join(FACT_SCOPES)}")
        outside: tuple[str, ...] = ()
        if "outside" in m:
            if ftype != "place":
                raise f.error(m["outside"][1], "'outside' only goes with type place",
                              key="outside")
            items = f.strings(m["outside"][1], "outside")
            for n, v in items:
                if not places.known(v):
                    raise f.error(n, f"unknown place '{v}'", key="outside",
                                  hint="use a gazetteer name such as 'United States', or add "
                                       f"the place to {PLACES_FILE}")
            outside = tuple(v for _, v in items)
        home: tuple[str, ...] = ()
        home_needs = None
        if "home" in m or "home_needs" in m:
            if ftype != "place":
                raise f.error(vnode, "'home' and 'home_needs' only go with type place",
                              key="home")
            if "home" not in m or "home_needs" not in m:
                raise f.error(vnode, "'home' and 'home_needs' go together: venues inside "
                              "'home' count only in a sentence naming a word of 'home_needs'",
                              key="home", hint="home: [United States], home_needs: foreign")
            items = f.strings(m["home"][1], "home")
            for n, v in items:
                if not places.known(v):
                    raise f.error(n, f"unknown place '{v}'", key="home",
                                  hint="use a gazetteer name such as 'United States', or add "
                                       f"the place to {PLACES_FILE}")
            home = tuple(v for _, v in items)
            home_needs = _ref(f, m["home_needs"][1], f.string(m["home_needs"][1], "home_needs"),
                              terms)
        term_list = None
        if ftype == "term":
            if "terms" not in m:
                raise f.error(vnode, f"term fact '{name}' needs 'terms': the term list whose "
                              "entry it records", key="terms", hint="e.g. {type: term, "
                              "terms: weapon}")
            term_list = _ref(f, m["terms"][1], f.string(m["terms"][1], "terms"), terms)
        elif "terms" in m:
            raise f.error(m["terms"][1], "'terms' only goes with type term", key="terms")
        required = f.boolean(m["required"][1], "required") if "required" in m else False
        return FactSpec(name, ftype, required, scope, value, outside, term_list, home,
                        home_needs)


def _template(f: _File, node: Node, text: str, names: set[str]) -> None:
    try:
        fields = [fld for _, fld, _, _ in string.Formatter().parse(text) if fld is not None]
    except ValueError as exc:
        raise f.error(node, f"summary template is malformed: {exc}", key="summary",
                      hint="use {fact} for a fact and {{ }} for literal braces") from exc
    for fld in fields:
        if fld not in names:
            raise f.error(node, f"summary uses {{{fld}}}, which this rule does not extract",
                          key="summary", hint=f"facts: {', '.join(sorted(names))}")


def fingerprint(directory: Path) -> str:
    """What ``load_ruleset(directory).fingerprint`` would be, from the files alone (nothing is
    parsed, no gazetteer is built): the rules changed when it changes."""
    directory = Path(directory)
    if not directory.is_dir():
        return hashlib.sha256(b"").hexdigest()
    return str(_digest(sorted(p for p in directory.glob("*.yaml") if p.is_file())).hexdigest())


def _digest(paths: list[Path]) -> Any:
    digest = hashlib.sha256(gazetteer.fingerprint().encode())  # places are facts too
    for path in paths:
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            pass
    return digest


def load_ruleset(directory: Path, previous: RuleSet | None = None,
                 warnings: list[RuleError] | None = None) -> tuple[RuleSet, list[RuleError]]:
    """Load every ``*.yaml`` directly in ``directory``; keep the last good version of bad files.
    Every error of every file is returned (one ``RuleError`` each); ``warnings`` collects the
    files' warnings.

    ``places.yaml`` is the operator's places file (``watcher.rules.places_file``), not rules.

    The returned RuleSet is complete before it is returned: the caller swaps it in atomically.
    """
    directory = Path(directory)
    if not directory.is_dir():
        err = RuleError(str(directory), None, "rules folder not found",
                        hint="set [rules] path in the config")
        return RuleSet(fingerprint=hashlib.sha256(b"").hexdigest()), [err]
    overlay, errors = load_places(directory, previous.places if previous is not None else None)
    places.use(overlay)  # rules name these places in 'outside'
    rules: dict[str, Any] = {}
    files: dict[str, tuple[str, ...]] = {}
    paths = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    digest = _digest(paths)
    for path in paths:
        name = str(path)
        if path.name == PLACES_FILE:
            continue
        try:
            loaded = load_rule_file(path, warnings)
            clash = next((r for r in loaded if r.id in rules), None)
            if clash is not None:
                other = rules[clash.id].file
                raise RuleError(name, clash.line, f"duplicate rule id '{clash.id}'", key="id",
                                hint=f"also defined in {other}")
        except RuleError as exc:
            errors.extend(exc.errors if isinstance(exc, RuleErrors) else [exc])
            if previous is not None and name in previous.files:
                kept = [previous.rules[i] for i in previous.files[name] if i in previous.rules
                        and i not in rules]
                for rule in kept:
                    rules[rule.id] = rule
                files[name] = tuple(r.id for r in kept)
            continue
        for rule in loaded:
            rules[rule.id] = rule
        files[name] = tuple(r.id for r in loaded)
    return RuleSet(rules=rules, files=files, fingerprint=digest.hexdigest(),
                   places=overlay), errors
