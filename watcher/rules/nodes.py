"""Reading PyYAML's composed nodes strictly, with the file and line of every mistake.

A reader collects what it can go past: an unknown or duplicate key is recorded and skipped, a
part of a rule that fails is recorded (``attempt``) and the rest is still read, so an operator
sees every error of a file at once. Warnings (``warn``) do not stop the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from watcher.errors import RuleError

T = TypeVar("T")
_BOOL_WORDS = frozenset(("yes", "no", "on", "off", "y", "n", "true", "false"))


class NodeReader:
    """Validation helpers bound to one file name."""

    def __init__(self, name: str):
        self.name = name
        self.errors: list[RuleError] = []
        self.warnings: list[RuleError] = []

    def attempt(self, read: Callable[[], T], default: T) -> T:
        """``read()``, or ``default`` with its error recorded: the rest of the file goes on."""
        try:
            return read()
        except RuleError as exc:
            self.errors.append(exc)
            return default

    def warn(self, node: Node | None, message: str, key: str | None = None,
             hint: str | None = None) -> None:
        self.warnings.append(self.error(node, message, key=key, hint=hint))

    def error(self, node: Node | None, message: str, key: str | None = None,
              hint: str | None = None) -> RuleError:
        line = node.start_mark.line + 1 if node is not None else None
        return RuleError(self.name, line, message, key=key, hint=hint)

    def mapping(self, node: Node, where: str, allowed: tuple[str, ...],
                ) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{where} must be a mapping", key=where,
                             hint=f"write it as 'key: value' lines ({', '.join(allowed)})")
        out: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, ScalarNode) else None
            if not isinstance(key, str):
                raise self.error(knode, f"{where} has a key that is not a word", key=where)
            if key in out:
                self.errors.append(self.error(knode, f"duplicate key '{key}' in {where}",
                                              key=key, hint="each key may appear once"))
                continue
            if key not in allowed:
                self.errors.append(self.error(knode, f"unknown key '{key}' in {where}", key=key,
                                              hint=f"known keys: {', '.join(allowed)}"))
                continue
            out[key] = (knode, vnode)
        return out

    def string(self, node: Node, key: str, allow_empty: bool = False) -> str:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool" and \
                node.style is None and str(node.value).lower() in _BOOL_WORDS:
            # A bare yes/no where words go: YAML reads it as true/false. Take the word, and say
            # so: quoted, it is unambiguous to every reader.
            self.warn(node, f"bare '{node.value}' in '{key}' is true/false to YAML; taken as "
                      "the word", key=key, hint=f"quote it: '{node.value}'")
            return str(node.value)
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            raise self.error(node, f"'{key}' must be a string, got {_kind(node)}", key=key)
        if not allow_empty and not node.value.strip():
            raise self.error(node, f"'{key}' must not be empty", key=key)
        return str(node.value)

    def integer(self, node: Node, key: str) -> int:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise self.error(node, f"'{key}' must be a whole number, got {_kind(node)}", key=key)
        return int(node.value)

    def boolean(self, node: Node, key: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.error(node, f"'{key}' must be true or false, got {_kind(node)}", key=key)
        value = str(node.value).lower()
        if value not in ("true", "false"):
            self.warn(node, f"'{key}: {node.value}' is read as {value in ('yes', 'on', 'y')}",
                      key=key, hint="write true or false")
        return value in ("true", "yes", "on", "y")

    def strings(self, node: Node, key: str, allow_empty: bool = False) -> list[tuple[Node, str]]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, f"'{key}' must be a list, got {_kind(node)}", key=key,
                             hint="write one item per line, each starting with '- '")
        if not node.value and not allow_empty:
            raise self.error(node, f"'{key}' is an empty list", key=key,
                             hint="give at least one item")
        return [(item, self.string(item, key)) for item in node.value]


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "a string", "int": "a number", "float": "a number", "bool": "true/false",
            "null": "nothing"}.get(tag, tag) + f" ({node.value!r})"
