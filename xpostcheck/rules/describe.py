"""Plain-text description of a rule pack, for `xpostcheck rules show`.

In: a RuleSet. Out: text naming the pack, its policy and every rule with its options.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xpostcheck.checks.compose import GROUP_KINDS
from xpostcheck.checks.registry import KINDS
from xpostcheck.models import Rule, RuleSet


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _describe_lines(rs: RuleSet) -> Iterator[str]:
    yield f"{rs.name}: {rs.publisher or '(no publisher)'}"
    if rs.aliases:
        yield f"  also named: {', '.join(rs.aliases)}"
    if rs.policy_url:
        read = f" (read {rs.policy_read})" if rs.policy_read else ""
        yield f"  policy: {rs.policy_url}{read}"
    if rs.extends:
        yield f"  extends: {', '.join(rs.extends)}"
    if rs.path:
        yield f"  file: {rs.path}"
    if rs.description:
        yield ""
        for para in rs.description.strip().splitlines():
            yield f"  {para.strip()}"
    yield ""
    yield f"  {len(rs.rules)} rules:"
    for rule in rs.rules:
        yield from _rule_lines(rule, "  - ", "      ")
        if rule.kind in GROUP_KINDS:
            for member in rule.options.get("members", ()):
                yield from _rule_lines(member, "      * ", "          ")


def _rule_lines(rule: Rule, head: str, indent: str) -> Iterator[str]:
    yield f"{head}{rule.id} [{rule.kind}] {rule.severity}"
    summary = KINDS[rule.kind].summary if rule.kind in KINDS else ""
    if rule.kind == "any_of":
        summary = "passes when one of these rules passes"
    elif rule.kind == "all_of":
        summary = "passes when every one of these rules passes"
    text = rule.description or summary
    if text:
        yield f"{indent}{text}"
    for key, value in rule.options.items():
        if key != "members":
            yield f"{indent}{key} = {_fmt(value)}"


def describe_ruleset(rs: RuleSet) -> str:
    """Plain text for `xpostcheck rules show`: the pack, its policy, and every rule."""
    return "\n".join(_describe_lines(rs))
