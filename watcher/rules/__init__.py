"""Operator-written rules: the language (schema), the strict loader and the operator tools.

    load_rule_file(path) -> [Rule]                  raises RuleError naming file, line, key
    load_ruleset(dir, previous) -> (RuleSet, [RuleError])
    commands.check / commands.test / commands.explain
"""

from watcher.rules.loader import load_rule_file, load_ruleset
from watcher.rules.schema import Check, Condition, FactSpec, Rule, RuleSet

__all__ = ["Check", "Condition", "FactSpec", "Rule", "RuleSet", "load_rule_file", "load_ruleset"]
