"""The operator's places file, ``rules/places.yaml``: sites, seas and regions GeoNames lacks.

    places:
      Punggye-ri: {kind: site, in: North Korea, aliases: [Punggye-ri nuclear test site]}
      Sea of Japan: {kind: sea, aliases: [East Sea]}

Optional. It is read by ``load_ruleset`` with the rule files (so it is checked by
``watcher rules check`` and hot-reloaded with the rules), by the same strict reading: unknown
keys, wrong types, unknown kinds, an ``in`` that names no known place, an alias given to two
places, or places that lie in each other are errors naming the file, the line and the key. A
broken file keeps the last good places live, as a broken rule file keeps its rules.

An entry named like a gazetteer place replaces its kind and what it lies in (its names still
count); its aliases are added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from watcher.errors import RuleError, RuleErrors
from watcher.facts import places
from watcher.facts.places import EMPTY, KINDS, Overlay, PlaceDef
from watcher.rules.nodes import NodeReader

PLACES_FILE = "places.yaml"
PLACE_KEYS = ("kind", "in", "aliases")
MAX_NAME = 100  # characters


def load_places(directory: Path, previous: Overlay | None = None
                ) -> tuple[Overlay, list[RuleError]]:
    """The places file of a rules folder: (its places, []) or (the previous places, [errors])."""
    path = Path(directory) / PLACES_FILE
    if not path.is_file():
        return EMPTY, []
    try:
        return load_places_file(path), []
    except RuleError as exc:
        errors = exc.errors if isinstance(exc, RuleErrors) else [exc]
        return previous if previous is not None else EMPTY, errors


def load_places_file(path: Path) -> Overlay:
    """Parse and validate a places file. Raises ``RuleError`` naming file, line and key
    (``RuleErrors`` with every error, when there are several)."""
    path = Path(path)
    f = NodeReader(str(path))
    try:
        overlay = _load(path, f)
    except RuleError as exc:
        f.errors.append(exc)
    if len(f.errors) == 1:
        raise f.errors[0]
    if f.errors:
        raise RuleErrors(f.errors)
    return overlay


def _load(path: Path, f: NodeReader) -> Overlay:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(str(path), None, f"cannot read places file: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(str(path), mark.line + 1 if mark is not None else None,
                        f"not valid YAML: {problem}",
                        hint="check indentation, colons and quotes") from exc
    if root is None:
        return Overlay(source=str(path))
    top = f.mapping(root, "the places file", ("places",))
    if "places" not in top:
        return Overlay(source=str(path))
    node = top["places"][1]
    if not isinstance(node, MappingNode):
        raise f.error(node, "'places' must be a mapping of place name to {kind, in, aliases}",
                      key="places", hint="e.g. 'Punggye-ri: {kind: site, in: North Korea}'")
    raw: list[tuple[Node, str, str, tuple[Node, str] | None, tuple[str, ...]]] = []
    owner: dict[str, str] = {}  # every name and alias in the file -> its place
    for knode, vnode in node.value:
        name = _name(f, knode, "places")
        if name in owner:
            raise f.error(knode, f"place '{name}' is listed twice" if owner[name] == name else
                          f"'{name}' already names '{owner[name]}'", key=name,
                          hint="a name may stand for one place only")
        m = f.mapping(vnode, f"place '{name}'", PLACE_KEYS)
        if "kind" not in m:
            raise f.error(knode, f"place '{name}' needs a 'kind'", key=name,
                          hint=f"one of: {', '.join(KINDS)}")
        kind = f.string(m["kind"][1], "kind")
        if kind not in KINDS:
            raise f.error(m["kind"][1], f"unknown kind '{kind}'", key="kind",
                          hint=f"one of: {', '.join(KINDS)}")
        parent = (m["in"][1], f.string(m["in"][1], "in")) if "in" in m else None
        items = [(n, _name(f, n, "aliases")) for n, _ in f.strings(m["aliases"][1], "aliases")
                 ] if "aliases" in m else []
        for alias_node, alias in items:
            if owner.get(alias, name) != name:
                raise f.error(alias_node, f"'{alias}' already names '{owner[alias]}'",
                              key="aliases", hint="a name may stand for one place only")
        aliases = tuple(alias for _, alias in items)
        for n in (name, *aliases):
            owner.setdefault(n, name)
        owner[name] = name
        raw.append((knode, name, kind, parent, aliases))
    defs = [PlaceDef(name, kind, _parent(f, parent, owner), aliases, knode.start_mark.line + 1)
            for knode, name, kind, parent, aliases in raw]
    _no_cycles(f, defs, raw)
    return Overlay(places=tuple(defs), source=str(path))


def _name(f: NodeReader, node: Node, key: str) -> str:
    if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        raise f.error(node, f"a place name must be a string, got {node.value!r}", key=key)
    name = str(node.value).strip()
    if not any(ch.isalpha() for ch in name) or len(name) > MAX_NAME:
        raise f.error(node, f"place name {name!r} must have letters and at most {MAX_NAME} "
                      "characters", key=key)
    return name


def _parent(f: NodeReader, parent: tuple[Node, str] | None, owner: dict[str, str]) -> str | None:
    if parent is None:
        return None
    node, name = parent
    resolved = owner.get(name) or places.gazetteer().resolve(name)
    if resolved is None:
        raise f.error(node, f"unknown place '{name}'", key="in",
                      hint="a GeoNames country or city ('North Korea', 'Pyongyang'), a region "
                           "('East Asia'), or another place of this file")
    return resolved


def _no_cycles(f: NodeReader, defs: list[PlaceDef], raw: list[Any]) -> None:
    parent_of = {d.name: d.parent for d in defs}
    base = places.gazetteer().entries

    def parent(name: str) -> str | None:
        return parent_of[name] if name in parent_of else (base.get(name) or ("", None))[1]

    for d, (knode, *_rest) in zip(defs, raw, strict=True):
        path = [d.name]
        current = d.parent
        while current is not None:
            path.append(current)
            if current in path[:-1]:
                raise f.error(knode, f"place '{d.name}' lies inside itself: "
                              f"{' in '.join(path)}", key="in",
                              hint="follow the 'in' keys: one of them must change")
            current = parent(current)
