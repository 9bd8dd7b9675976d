"""Composition of rules: `any_of` / `all_of` groups and `when` conditions.

A group is a Rule whose kind is `any_of` or `all_of` and whose option `members` holds the
member Rules. A `when` condition (a rule option) names a fact about the copy; the rule applies
only when it holds ("not canonical" negates). Conditions are data, listed in CONDITIONS, so the
loader validates them and docs/rules.md lists them.

In: a CheckContext and a condition text. Out: whether it holds, with the words that say why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from xpostcheck.checks.changes import changes
from xpostcheck.checks.context import CheckContext

__all__ = ["CONDITIONS", "GROUP_KINDS", "condition_holds", "parse_condition"]

GROUP_KINDS = ("any_of", "all_of")


def _canonical(ctx: CheckContext) -> bool:
    link = (ctx.page.header("Link") or "").lower()
    return bool(ctx.page.canonicals) or "canonical" in link


def _edited(ctx: CheckContext) -> bool:
    return bool(changes(ctx))


def _kind_is(kind: str) -> Callable[[CheckContext], bool]:
    return lambda ctx: ctx.match.kind == kind


_CONDITIONS: dict[str, tuple[str, Callable[[CheckContext], bool]]] = {
    "canonical": ("the page has a rel=canonical (tag or Link header)", _canonical),
    "edited": (
        "the copy has inserted passages or changed numbers, names or quotations "
        "(a cut is measured by coverage, not here)",
        _edited,
    ),
    "full": ("the copy holds the whole article (match kind full)", _kind_is("full")),
    "partial": ("the copy holds part of the article (match kind partial)", _kind_is("partial")),
    "excerpt": ("the copy is an excerpt (match kind excerpt)", _kind_is("excerpt")),
}
CONDITIONS: Mapping[str, tuple[str, Callable[[CheckContext], bool]]] = MappingProxyType(_CONDITIONS)


def parse_condition(text: str) -> tuple[bool, str] | None:
    """(negated, name) of a `when` text such as 'edited' or 'not canonical'; None if unknown."""
    words = text.strip().lower().split()
    negated = bool(words) and words[0] == "not"
    if negated:
        words = words[1:]
    if len(words) != 1 or words[0] not in CONDITIONS:
        return None
    return negated, words[0]


def valid_condition(value: object) -> str | None:
    """Loader validation of `when`: None when fine, else what is wrong."""
    if not isinstance(value, str) or parse_condition(value) is None:
        known = ", ".join(CONDITIONS)
        return f"'when' must be one of {known}, optionally after 'not', not {value!r}"
    return None


def condition_holds(ctx: CheckContext, when: str) -> bool:
    parsed = parse_condition(when)
    if parsed is None:  # the loader refuses these; a hand-built rule applies always
        return True
    negated, name = parsed
    return CONDITIONS[name][1](ctx) != negated
