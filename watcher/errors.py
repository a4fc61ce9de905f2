"""Watcher's exceptions.

Exceptions are for the edges (a config the service cannot start with, a rule file an operator
must fix). Inside a cycle, failures are values recorded on the feed, article or delivery.

    WatcherError
    ├── ConfigError        the TOML config is unreadable or invalid
    └── RuleError          a rule file is invalid (carries file, line, key and a hint)
        └── RuleErrors     all the errors of one file, each a RuleError
"""

from __future__ import annotations


class WatcherError(Exception):
    """Base class of watcher's own exceptions."""


class ConfigError(WatcherError):
    """The config file cannot be used."""


class RuleError(WatcherError):
    """A rule file is invalid. ``str()`` gives ``file:line: message (hint)``."""

    def __init__(self, file: str, line: int | None, message: str, key: str | None = None,
                 hint: str | None = None):
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        if self.key:
            text += f" [key: {self.key}]"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class RuleErrors(RuleError):
    """Every error found in one rule file; ``errors`` lists them, ``str()`` gives one a line."""

    def __init__(self, errors: list[RuleError]):
        first = errors[0]
        self.errors = list(errors)
        super().__init__(first.file, first.line, first.message, first.key, first.hint)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in getattr(self, "errors", ())) or super().__str__()
