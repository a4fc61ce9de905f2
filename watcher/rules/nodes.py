"""Reading PyYAML's composed nodes strictly, with the file and line of every mistake."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from watcher.errors import RuleError


class NodeReader:
    """Validation helpers bound to one file name."""

    def __init__(self, name: str):
        self.name = name

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
                raise self.error(knode, f"duplicate key '{key}' in {where}", key=key,
                                 hint="each key may appear once")
            if key not in allowed:
                raise self.error(knode, f"unknown key '{key}' in {where}", key=key,
                                 hint=f"known keys: {', '.join(allowed)}")
            out[key] = (knode, vnode)
        return out

    def string(self, node: Node, key: str, allow_empty: bool = False) -> str:
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
        return node.value.lower() in ("true", "yes", "on")

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
