"""Docs that cannot rot: every config key and every CLI command is documented."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

import pytest

from watcher.cli import build_parser
from watcher.settings import _SECTIONS, FeedSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("section, key", [
    *[(name, f.name) for name, cls in _SECTIONS.items() for f in fields(cls)],
    *[("feeds", f.name) for f in fields(FeedSettings)],
])
def test_every_config_key_is_documented(section, key):
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert f"`[{section}]`" in doc or f"`[[{section}]]`" in doc
    assert f"`{key}`" in doc, f"[{section}] {key} is missing from docs/configuration.md"


def _commands(parser: argparse.ArgumentParser, prefix: str = "watcher") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(f"{prefix} {name}")
                out.extend(_commands(sub, f"{prefix} {name}"))
    return out


def _documented_commands() -> list[list[str]]:
    """The commands in the first column of README.md's "Commands" table, as words without
    "watcher" (``watcher feeds [list]`` -> ["feeds", "list"])."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    out = []
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        first = row.split(" | ", 1)[0]
        for span in re.findall(r"`([^`]+)`", first):
            words = span.split()
            words = words[1:] if words[0] == "watcher" else words
            out.append([w.strip("[]") for w in words])
    return out


@pytest.mark.parametrize("command", _commands(build_parser()))
def test_every_command_is_in_the_readme(command):
    words = command.split()[1:]
    documented = _documented_commands()
    assert any(d[:len(words)] == words for d in documented), \
        f"{command} is missing from README.md's Commands table"


def test_the_readme_check_fails_for_a_missing_command():
    documented = _documented_commands()
    assert not any(d[:2] == ["feeds", "frobnicate"] for d in documented)
    assert any(d[:2] == ["feeds", "add"] for d in documented)


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:5]
    assert any("make run" in line for line in head) and any("make test" in line for line in head)
