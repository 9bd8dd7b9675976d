"""Rule files: TOML packs that say what a publisher's republishing terms require.

A pack names its publisher and the policy it encodes, and holds `[[rule]]` tables, one per
condition, each of a registered check kind (see `checks.registry.KINDS`, whose specs validate
each option). A pack may `extends` another (a publisher's pack on top of a Creative Commons
licence pack). Errors name the file and line. The format is described in docs/rules.md.

In: pack names and file paths. Out: a RuleSet, or RuleError naming file and line.
`apply_overrides` and `describe_ruleset` live in `overrides` and `describe`; they are importable
from here too, as before.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xpostcheck.checks.compose import GROUP_KINDS, valid_condition
from xpostcheck.checks.context import SEVERITIES
from xpostcheck.checks.registry import KINDS
from xpostcheck.errors import RuleError
from xpostcheck.models import Rule, RuleSet
from xpostcheck.rules.describe import describe_ruleset
from xpostcheck.rules.overrides import apply_overrides
from xpostcheck.util.nesting import TOO_DEEP, deep_line

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "RuleError",
    "apply_overrides",
    "describe_ruleset",
    "list_packs",
    "load_ruleset",
    "packs_dir",
    "validate",
]

_TOP_KEYS = (
    "name",
    "publisher",
    "aliases",
    "policy_url",
    "policy_read",
    "description",
    "extends",
    "rule",
    "example_source",
    "example",
)
_RULE_KEYS = ("id", "kind", "severity", "description", "enabled", "when", *GROUP_KINDS)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def packs_dir() -> Path:
    """The shipped packs: `xpostcheck/packs` when installed, `<repo>/rules` in a source tree."""
    installed = Path(__file__).resolve().parents[1] / "packs"
    if installed.is_dir() and any(installed.glob("*.toml")):
        return installed
    source_tree = Path(__file__).resolve().parents[2] / "rules"
    if source_tree.is_dir():
        return source_tree
    try:  # an editable install maps the package xpostcheck.packs to rules/
        import importlib.resources

        found = Path(str(importlib.resources.files("xpostcheck.packs")))
        if found.is_dir():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    return installed


def pack_names() -> list[str]:
    return sorted(p.stem for p in packs_dir().glob("*.toml"))


def list_packs() -> list[RuleSet]:
    """Every shipped pack, loaded, by name."""
    return [load_ruleset(name) for name in pack_names()]


def _is_path(spec: str) -> bool:
    return spec.endswith(".toml") or "/" in spec or "\\" in spec or Path(spec).is_file()


def _resolve_spec(spec: str, relative_to: Path | None = None) -> Path:
    if _is_path(spec):
        path = Path(spec).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        shipped = packs_dir() / spec
        if not path.exists() and Path(spec).name == spec and shipped.is_file():
            return shipped  # "globalresearch.toml" names the shipped pack
        return path
    path = packs_dir() / f"{spec}.toml"
    if not path.is_file():
        available = ", ".join(pack_names()) or "none"
        raise RuleError(
            f"unknown rules pack {spec!r}{_did_you_mean(spec, pack_names())}; "
            f"available packs: {available} (or give the path of a .toml file)"
        )
    return path


def load_ruleset(spec: str) -> RuleSet:
    """A pack by name (see `list_packs`) or a rule file by path. Raises RuleError (file:line)."""
    loader = _Loader()
    ruleset = loader.load(_resolve_spec(spec), ())
    if loader.errors:
        raise loader.errors[0]
    assert ruleset is not None
    return ruleset


def validate(path: str | Path) -> list[RuleError]:
    """Every error in a rule file, or in each .toml file under a folder ([] when all valid)."""
    root = Path(path)
    if root.is_dir():
        files = sorted(root.rglob("*.toml"))
        if not files:
            return [RuleError("no .toml rule files in this folder", path=str(root))]
    elif root.is_file():
        files = [root]
    else:
        return [RuleError("no such file or folder", path=str(root))]
    errors: list[RuleError] = []
    for file in files:
        loader = _Loader()
        try:
            loader.load(file, ())
        except RuleError as exc:
            loader.errors.append(exc)
        errors.extend(loader.errors)
    return errors


# --- loading -------------------------------------------------------------------------------


@dataclass
class _Lines:
    """Where tables and keys sit in a TOML text, for error messages."""

    lines: list[str]

    def rule_starts(self) -> list[int]:
        return [i + 1 for i, ln in enumerate(self.lines) if re.match(r"^\s*\[\[\s*rule\s*\]\]", ln)]

    def section_end(self, start: int) -> int:
        for i in range(start, len(self.lines)):
            if re.match(r"^\s*\[", self.lines[i]):
                return i
        return len(self.lines)

    def key_line(self, key: str, start: int = 0, end: int | None = None) -> int:
        """1-based line of `key = ...` between lines start (a header line, 1-based) and end."""
        end = len(self.lines) if end is None else end
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start or 1

    def table_line(self, name: str) -> int | None:
        for i, ln in enumerate(self.lines):
            if re.match(rf"^\s*\[\s*{re.escape(name)}\s*\]", ln):
                return i + 1
        return None

    def top_end(self) -> int:
        for i, ln in enumerate(self.lines):
            if re.match(r"^\s*\[", ln):
                return i
        return len(self.lines)


class _LoopError(RuleError):
    """'extends' leads back to a file already being loaded."""


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    """The TOML of a rule file, or RuleError naming the file and the line at fault."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        line = deep_line(text)
        raise RuleError(f"not valid TOML: {TOO_DEEP}", path=str(path), line=line) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RuleError(
            f"not valid TOML: {exc}", path=str(path), line=int(m.group(1)) if m else None
        ) from None


class _Loader:
    """Loads one file and what it extends; collects every error it finds."""

    def __init__(self) -> None:
        self.errors: list[RuleError] = []

    def error(self, message: str, path: Path, line: int | None) -> None:
        self.errors.append(RuleError(message, path=str(path), line=line))

    def load(self, path: Path, chain: tuple[Path, ...]) -> RuleSet | None:
        try:
            resolved = path.resolve()
        except OSError:
            resolved = path
        if resolved in chain:
            names = " -> ".join(p.name for p in (*chain, resolved))
            raise _LoopError(f"'extends' makes a loop: {names}")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RuleError("rule file not found", path=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleError(f"cannot read rule file: {exc}", path=str(path)) from None
        data = _parse_toml(path, text)
        return self._build(path, resolved, data, _Lines(text.splitlines()), chain)

    def _build(
        self,
        path: Path,
        resolved: Path,
        data: dict[str, Any],
        where: _Lines,
        chain: tuple[Path, ...],
    ) -> RuleSet | None:
        before = len(self.errors)
        top_end = where.top_end()
        for key in data:
            if key not in _TOP_KEYS:
                self.error(
                    f"unknown key {key!r}{_did_you_mean(key, _TOP_KEYS)}; "
                    f"a rule file has: {', '.join(_TOP_KEYS)}",
                    path,
                    where.key_line(key, 0, top_end),
                )

        def text_field(key: str) -> str:
            value = data.get(key, "")
            if not isinstance(value, str):
                self.error(f"{key!r} must be a string", path, where.key_line(key, 0, top_end))
                return ""
            return value

        name = text_field("name") or path.stem
        publisher = text_field("publisher")
        policy_url = text_field("policy_url")
        policy_read = text_field("policy_read")
        description = text_field("description")
        if policy_read and not _DATE.match(policy_read):
            self.error(
                "'policy_read' must be a date, YYYY-MM-DD",
                path,
                where.key_line("policy_read", 0, top_end),
            )
        aliases_raw = data.get("aliases", [])
        if not isinstance(aliases_raw, list) or not all(isinstance(a, str) for a in aliases_raw):
            self.error(
                "'aliases' must be a list of strings", path, where.key_line("aliases", 0, top_end)
            )
            aliases_raw = []
        aliases = tuple(aliases_raw)

        inherited: list[Rule] = []
        parent_names: list[str] = []
        for parent in self._parents(path, resolved, data, where, chain):
            publisher = publisher or parent.publisher
            aliases = aliases or parent.aliases
            policy_url = policy_url or parent.policy_url
            policy_read = policy_read or parent.policy_read
            parent_names += [parent.name, *parent.extends]
            for rule in parent.rules:
                inherited = [r for r in inherited if r.id != rule.id] + [rule]
        rules = self._rules(path, data, where, inherited)
        if not rules and len(self.errors) == before:
            self.error("the rule file holds no rules; add [[rule]] tables", path, None)
        if len(self.errors) > before:
            return None
        return RuleSet(
            name=name,
            publisher=publisher,
            rules=tuple(rules),
            path=str(path),
            policy_url=policy_url,
            policy_read=policy_read,
            description=description,
            aliases=aliases,
            extends=tuple(dict.fromkeys(parent_names)),
        )

    def _parents(
        self,
        path: Path,
        resolved: Path,
        data: dict[str, Any],
        where: _Lines,
        chain: tuple[Path, ...],
    ) -> list[RuleSet]:
        """The packs this file `extends`, loaded, parents first and nearest last."""
        top_end = where.top_end()
        extends_raw = data.get("extends", [])
        if isinstance(extends_raw, str):
            extends_raw = [extends_raw]
        if not isinstance(extends_raw, list) or not all(isinstance(e, str) for e in extends_raw):
            self.error(
                "'extends' must be a pack name, a path, or a list of them",
                path,
                where.key_line("extends", 0, top_end),
            )
            extends_raw = []
        parents: list[RuleSet] = []
        for spec in extends_raw:
            line = where.key_line("extends", 0, top_end)
            try:
                parent_path = _resolve_spec(spec, path.parent)
            except RuleError as exc:
                self.error(f"'extends': {exc}", path, line)
                continue
            sub = _Loader()
            try:
                parent = sub.load(parent_path, (*chain, resolved))
            except _LoopError as exc:
                if chain:  # report the loop once, at the file the user loaded
                    raise
                self.error(str(exc), path, line)
                continue
            except RuleError as exc:
                self.error(f"'extends' {spec!r}: {exc}", path, line)
                continue
            if sub.errors or parent is None:
                self.error(f"'extends' {spec!r} is invalid: {sub.errors[0]}", path, line)
                continue
            parents.append(parent)
        return parents

    def _rules(
        self, path: Path, data: dict[str, Any], where: _Lines, inherited: list[Rule]
    ) -> list[Rule]:
        """The inherited rules with this file's [[rule]] tables applied, in order: a table
        replaces (or, with enabled = false, removes) the inherited rule of its id."""
        top_end = where.top_end()
        raw_rules = data.get("rule", [])
        if isinstance(raw_rules, dict):
            self.error(
                "write rules as [[rule]] tables (an array), not [rule]",
                path,
                where.table_line("rule"),
            )
            raw_rules = []
        if not isinstance(raw_rules, list):
            self.error(
                "'rule' must be an array of [[rule]] tables",
                path,
                where.key_line("rule", 0, top_end),
            )
            raw_rules = []
        starts = where.rule_starts()
        rules = list(inherited)
        seen: set[str] = set()
        for i, raw in enumerate(raw_rules):
            header = starts[i] if i < len(starts) else where.key_line("rule", 0, len(where.lines))
            end = where.section_end(header)
            if not isinstance(raw, dict):
                self.error("each rule must be a table", path, header)
                continue
            made = self._rule(raw, rules, path, where, header, end, seen)
            if made is None:
                continue
            index = next((k for k, r in enumerate(rules) if r.id == made.id), None)
            enabled = raw.get("enabled", True)
            if index is not None:
                if enabled:
                    rules[index] = made
                else:
                    del rules[index]
            elif enabled:
                rules.append(made)
        return rules

    def _rule(
        self,
        raw: dict[str, Any],
        current: Sequence[Rule],
        path: Path,
        where: _Lines,
        header: int,
        end: int,
        seen: set[str],
    ) -> Rule | None:
        def line(key: str) -> int:
            return where.key_line(key, header, end)

        before = len(self.errors)
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            self.error(
                "each [[rule]] needs an 'id' (letters, digits, - _ .)",
                path,
                line("id") if "id" in raw else header,
            )
            return None
        if rule_id in seen:
            self.error(f"duplicate rule id {rule_id!r}", path, line("id"))
            return None
        seen.add(rule_id)
        base = next((r for r in current if r.id == rule_id), None)
        if base is not None and base.kind in GROUP_KINDS and "kind" not in raw:
            raw = _over_group(base, raw)
        elif base is not None and "kind" not in raw and not any(k in raw for k in GROUP_KINDS):
            # A partial override of an inherited rule: change only the keys given.
            merged: dict[str, Any] = {
                "kind": base.kind,
                "severity": base.severity,
                "description": base.description,
                **base.options,
            }
            merged.update(raw)
            raw = merged
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error("'enabled' must be true or false", path, line("enabled"))
        if enabled is False and base is not None:
            return Rule(id=rule_id, kind=base.kind, source_file=str(path), line=header)
        when = raw.get("when")
        if when is not None and (problem := valid_condition(when)):
            self.error(f"rule {rule_id!r}: {problem}", path, line("when"))
        if groups := [k for k in GROUP_KINDS if k in raw]:
            return _load_group(self, rule_id, raw, groups, path, where, header, end, before)
        kind = raw.get("kind")
        spec = KINDS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            self.error(
                f"rule {rule_id!r}: unknown or missing kind {kind!r}"
                f"{_did_you_mean(str(kind), list(KINDS))}; kinds: {', '.join(KINDS)}",
                path,
                line("kind") if "kind" in raw else header,
            )
            return None
        severity = raw.get("severity", spec.severity)
        if severity not in SEVERITIES:
            self.error(
                f"rule {rule_id!r}: severity must be one of {', '.join(SEVERITIES)}",
                path,
                line("severity"),
            )
        description = raw.get("description", "")
        if not isinstance(description, str):
            self.error(
                f"rule {rule_id!r}: 'description' must be a string", path, line("description")
            )
            description = ""
        options: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _RULE_KEYS:
                continue
            option = spec.options.get(key)
            if option is None:
                accepted = ", ".join(spec.options) or "none"
                self.error(
                    f"rule {rule_id!r}: unknown option {key!r} for kind {kind!r}"
                    f"{_did_you_mean(key, list(spec.options))}; options: {accepted}",
                    path,
                    line(key),
                )
                continue
            problem = option.check(value)
            if problem:
                self.error(f"rule {rule_id!r}: {key!r} {problem}", path, line(key))
                continue
            options[key] = value
        for name in spec.required:
            if not raw.get(name):
                self.error(f"rule {rule_id!r}: a {kind} rule needs {name!r}", path, header)
        options.update({"when": when} if when is not None else {})
        if len(self.errors) > before:
            return None
        return Rule(
            id=rule_id,
            kind=str(kind),
            severity=severity,
            description=description,
            options=options,
            source_file=str(path),
            line=header,
        )


def _over_group(base: Rule, raw: dict[str, Any]) -> dict[str, Any]:
    """A table changing an inherited group: its members are kept unless it gives new ones."""
    if any(k in raw for k in GROUP_KINDS):
        return raw
    kept: dict[str, Any] = {
        "severity": base.severity,
        "description": base.description,
        base.kind: base.options.get("members", ()),
    }
    if "when" in base.options:
        kept["when"] = base.options["when"]
    return {**kept, **raw}


def _load_group(
    self: _Loader,
    rule_id: str,
    raw: dict[str, Any],
    groups: list[str],
    path: Path,
    where: _Lines,
    header: int,
    end: int,
    before: int,
) -> Rule | None:
    """An any_of / all_of rule: its members are rule tables (kind and options; an id is
    optional), judged together as one finding."""
    group = groups[0]
    if len(groups) > 1 or "kind" in raw:
        self.error(
            f"rule {rule_id!r}: a rule is either one check ('kind') or one group "
            "('any_of' or 'all_of'), not both",
            path,
            where.key_line(group, header, end),
        )
        return None
    members_raw = raw[group]
    if not isinstance(members_raw, (list, tuple)) or not members_raw:
        self.error(
            f"rule {rule_id!r}: '{group}' must be a non-empty list of rule tables",
            path,
            where.key_line(group, header, end),
        )
        return None
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        self.error(
            f"rule {rule_id!r}: severity must be one of {', '.join(SEVERITIES)}",
            path,
            where.key_line("severity", header, end),
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        self.error(f"rule {rule_id!r}: 'description' must be a string", path, header)
        description = ""
    members: list[Rule] = []
    seen: set[str] = set()
    for n, member in enumerate(members_raw, 1):
        if isinstance(member, Rule):  # an inherited group's member, already checked
            members.append(member)
            continue
        if not isinstance(member, dict):
            self.error(f"rule {rule_id!r}: member {n} of '{group}' must be a table", path, header)
            continue
        extra = [k for k in ("enabled", "severity") if k in member]
        if extra:
            self.error(
                f"rule {rule_id!r}: member {n} of '{group}' may not set {extra[0]!r} "
                "(the group's own severity applies)",
                path,
                where.key_line(extra[0], header, end),
            )
            continue
        table = {"id": f"{rule_id}.{n}", **member, "severity": severity}
        made = self._rule(table, [], path, where, header, end, seen)
        if made is not None:
            members.append(made)
    if len(self.errors) > before:
        return None
    options: dict[str, Any] = {"members": tuple(members)}
    if raw.get("when") is not None:
        options["when"] = raw["when"]
    return Rule(
        id=rule_id,
        kind=group,
        severity=severity,
        description=description,
        options=options,
        source_file=str(path),
        line=header,
    )
