"""A user's overrides on top of a loaded rule pack: change severities, disable rules, set
options, each validated through the check kind's spec.

In: a RuleSet and {rule id: {key: value}} from the config. Out: a new RuleSet, or RuleError
placed at the config file and line of the override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from xpostcheck.checks.context import SEVERITIES
from xpostcheck.checks.registry import KINDS
from xpostcheck.errors import RuleError
from xpostcheck.models import RuleSet


def apply_overrides(
    ruleset: RuleSet,
    overrides: Mapping[str, Mapping[str, Any]],
    *,
    where: Mapping[str, str] | None = None,
) -> RuleSet:
    """A user's config on top of a pack: {"rule-id": {"severity": "warning"} | {"enabled": false}
    | {option: value}}. Unknown rule ids or options raise RuleError, placed at `where[rule_id]`
    (the config file and line of the override) when given."""
    pack = ruleset.path or ruleset.name
    by_id = {r.id: r for r in ruleset.rules}
    rules = list(ruleset.rules)
    for rule_id, change in overrides.items():
        at = (where or {}).get(rule_id)

        def fail(message: str, rule_id: str = rule_id, at: str | None = at) -> RuleError:
            return RuleError(f"override for {rule_id!r}: {message}", path=at)

        rule = by_id.get(rule_id)
        if rule is None:
            known = ", ".join(by_id) or "none"
            raise fail(f"no such rule in {ruleset.name}; its rules: {known}")
        if not isinstance(change, Mapping):
            raise fail("must be a table")
        enabled = change.get("enabled", True)
        if not isinstance(enabled, bool):
            raise fail("'enabled' must be true or false")
        if not enabled:
            rules = [r for r in rules if r.id != rule_id]
            continue
        severity = change.get("severity", rule.severity)
        if severity not in SEVERITIES:
            raise fail(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        spec = KINDS.get(rule.kind)  # None for an any_of / all_of group
        options = dict(rule.options)
        for key, value in change.items():
            if key in ("enabled", "severity"):
                continue
            option = spec.options.get(key) if spec is not None else None
            problem = (
                f"unknown option {key!r} for kind {rule.kind!r}"
                if option is None
                else option.check(value)
            )
            if problem:
                raise fail(f"option {key!r}: {problem} (pack {pack})")
            options[key] = value
        new = replace(rule, severity=severity, options=options)
        rules = [new if r.id == rule_id else r for r in rules]
    return replace(ruleset, rules=tuple(rules))
