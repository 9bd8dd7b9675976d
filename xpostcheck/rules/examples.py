"""Examples inside rule packs, and running them: `xpostcheck rules test PACK|FILE|DIR`.

A pack holds `[[example]]` tables: a copy page (HTML with placeholders for the original's
text), the verdict the publisher's terms give it, and for a violation the rules that fail.
`[example_source]` describes the original the examples copy (a stock article by default).
Running an example extracts the page, aligns it with the original and runs the pack's checks,
as a scan would; an example whose outcome differs from its expectation fails with a diff.

In: a pack name, a rule file or a folder. Out: PackResults, or RuleError naming file and line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xpostcheck.checks.keeplinks import in_body_links
from xpostcheck.checks.registry import run_checks
from xpostcheck.errors import RuleError
from xpostcheck.extract.page import extract_html
from xpostcheck.match.config import MatchConfig
from xpostcheck.match.evidence import judge
from xpostcheck.models import Finding, Match, RuleSet, SourceArticle
from xpostcheck.rules.loader import _resolve_spec, load_ruleset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Example", "ExampleResult", "PackResult", "STOCK_TEXT", "run_examples", "run_pack"]

STOCK_TITLE = "Water board cuts river allocations for a third dry year"
STOCK_TEXT = "\n".join(
    [
        "The state water board voted five to two on Tuesday to cut allocations from the Alder "
        "River by 15 percent, the third cut in as many years, after a winter that left the "
        "snowpack at 41 percent of its average.",
        "Growers in the lower valley said the decision would leave about 40,000 acres "
        "unplanted next season. \u201cWe cannot farm on promises,\u201d said Rosa Delgado, who "
        "grows almonds and tomatoes near Merrill Crossing.",
        "Board chair Martin Okafor said the cut was the smallest the board could make while "
        "keeping enough water in the river for salmon, whose spring run fell to 2,300 fish "
        "last year.",
        "Cities that draw on the river, including Merrill Crossing and Fenwick, will have to "
        "reduce use by 8 percent from June, and the board asked them to report monthly on how "
        "much they pump.",
        "The board will revisit the allocation in October, when forecasters expect to know "
        "whether a wetter winter is coming. Until then, growers may trade water among "
        "themselves under rules adopted in 2022.",
        "Environmental groups welcomed the decision but said it came late. A coalition of "
        "seven groups had asked for a 20 percent cut in February, warning that the river "
        "could run dry below the Fenwick diversion by August.",
    ]
)
STOCK_COPY_URL = "https://valley-news.example/2025/06/water-board-cuts/"
_VERDICTS = ("compliant", "violation")
_EXAMPLE_KEYS = ("name", "expect", "fails", "html", "url", "edits", "original", "strip_links")
_SOURCE_KEYS = ("url", "title", "authors", "published", "text", "images", "links")
# {article} all paragraphs, {article:3} the first three, {article:4-} from the fourth on,
# {article:2-3} the second and third
_PLACEHOLDER = re.compile(
    r"\{(title|url|article|author|authors|publisher|published)(?::(\d+)(?:(-)(\d*))?)?\}"
)


@dataclass(frozen=True)
class Example:
    name: str
    expect: str  # compliant | violation
    fails: tuple[str, ...]  # for a violation: the error rules that fail, exactly
    html: str
    url: str
    line: int
    edits: tuple[tuple[str, str], ...] = ()
    original: dict[str, Any] = field(default_factory=dict, compare=False)
    strip_links: bool = False  # {article} without the original's in-body links


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    verdict: str  # compliant | violation | not a copy
    failed: tuple[str, ...]  # error rules that failed
    findings: tuple[Finding, ...]
    coverage: float

    @property
    def ok(self) -> bool:
        if self.verdict != self.example.expect:
            return False
        return self.example.expect == "compliant" or set(self.failed) == set(self.example.fails)

    def diff(self) -> list[str]:
        """What differs from the expectation, and every finding that explains it."""
        want = set(self.example.fails) if self.example.expect == "violation" else set()
        got = set(self.failed)
        lines = [
            f"expected: {self.example.expect}"
            + (f", failing {', '.join(sorted(want))}" if want else ""),
            f"got:      {self.verdict}"
            + (f", failing {', '.join(sorted(got))}" if got else "")
            + f" (coverage {self.coverage:.0%})",
        ]
        by_rule = {f.rule: f for f in self.findings}
        for rule in sorted(want | got):
            f = by_rule.get(rule)
            if rule in want and rule in got:
                continue
            sign = "-" if rule in want else "+"
            if f is None:
                lines.append(f"{sign} {rule}: no such rule in the pack")
                continue
            state = "passed" if f.passed else "failed"
            lines.append(f"{sign} {rule} [{f.kind}] {state}: {f.message}")
            if f.evidence:
                lines.append(f"    evidence: {f.evidence}")
        return lines


@dataclass(frozen=True)
class PackResult:
    path: str
    name: str
    results: tuple[ExampleResult, ...]

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)


# --- reading examples ----------------------------------------------------------------------


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _read(path: Path, ruleset: RuleSet) -> tuple[SourceArticle, list[Example]]:
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    starts = [i + 1 for i, ln in enumerate(lines) if re.match(r"^\s*\[\[\s*example\s*\]\]", ln)]

    def fail(message: str, line: int | None) -> RuleError:
        return RuleError(message, path=str(path), line=line)

    raw_source = data.get("example_source", {})
    src_line = next(
        (i + 1 for i, ln in enumerate(lines) if re.match(r"^\s*\[\s*example_source\s*\]", ln)),
        None,
    )
    if not isinstance(raw_source, dict):
        raise fail("'example_source' must be a table", src_line)
    for key in raw_source:
        if key not in _SOURCE_KEYS:
            raise fail(
                f"unknown key {key!r} in [example_source]; it has: {', '.join(_SOURCE_KEYS)}",
                src_line,
            )
    source = _source(raw_source, ruleset, fail, src_line)
    raw = data.get("example", [])
    if not isinstance(raw, list):
        raise fail("write examples as [[example]] tables", None)
    rule_ids = {r.id for r in ruleset.rules}
    examples = []
    for i, table in enumerate(raw):
        line = starts[i] if i < len(starts) else None
        examples.append(_example(table, line, rule_ids, fail))
    return source, examples


def _source(raw: dict[str, Any], ruleset: RuleSet, fail: Any, line: int | None) -> SourceArticle:
    for key in ("url", "title", "published", "text"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(f"[example_source] {key!r} must be a string", line)
    for key in ("authors", "images"):
        if key in raw and not _str_list(raw[key]):
            raise fail(f"[example_source] {key!r} must be a list of strings", line)
    links = raw.get("links", [])
    if not isinstance(links, list) or not all(
        isinstance(x, list) and len(x) == 2 and all(isinstance(v, str) for v in x) for x in links
    ):
        raise fail("[example_source] 'links' must be a list of [anchor text, href] pairs", line)
    host = (ruleset.aliases[0] if ruleset.aliases else "publisher.example").lower()
    host = host if "." in host else "publisher.example"
    source = SourceArticle(
        url=raw.get("url", f"https://{host}/2025/06/10/water-board-cuts-allocations/"),
        title=raw.get("title", STOCK_TITLE),
        text=raw.get("text", STOCK_TEXT),
        authors=tuple(raw.get("authors", ["Ben Alvarez"])),
        published=raw.get("published", "2025-06-10T15:00:00-07:00"),
        publisher=ruleset.publisher,
        images=tuple(raw.get("images", [])),
    )
    if not links:
        return source
    original = "<html><body><article><h1>{title}</h1>{article}</article></body></html>"
    return replace(source, html=_fill(original, source, tuple((a, h) for a, h in links)))


def _example(table: Any, line: int | None, rule_ids: set[str], fail: Any) -> Example:
    if not isinstance(table, dict):
        raise fail("each [[example]] must be a table", line)
    for key in table:
        if key not in _EXAMPLE_KEYS:
            raise fail(
                f"unknown key {key!r} in an example; it has: {', '.join(_EXAMPLE_KEYS)}", line
            )
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("each [[example]] needs a 'name'", line)
    expect = table.get("expect")
    if expect not in _VERDICTS:
        raise fail(f"example {name!r}: 'expect' must be compliant or violation", line)
    fails = table.get("fails", [])
    if not _str_list(fails):
        raise fail(f"example {name!r}: 'fails' must be a list of rule ids", line)
    if expect == "violation" and not fails:
        raise fail(f"example {name!r}: a violation names the rules that fail ('fails')", line)
    if expect == "compliant" and fails:
        raise fail(f"example {name!r}: a compliant example fails no rule; drop 'fails'", line)
    unknown = [f for f in fails if f not in rule_ids]
    if unknown:
        raise fail(
            f"example {name!r}: 'fails' names {unknown[0]!r}, which is not a rule of the pack; "
            f"its rules: {', '.join(sorted(rule_ids))}",
            line,
        )
    html = table.get("html")
    if not isinstance(html, str) or not html.strip():
        raise fail(f"example {name!r}: needs 'html', the copy page", line)
    edits = table.get("edits", [])
    if not isinstance(edits, list) or not all(
        isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e) for e in edits
    ):
        raise fail(f"example {name!r}: 'edits' must be a list of [old, new] pairs", line)
    original = table.get("original", {})
    if not isinstance(original, dict) or any(k not in _SOURCE_KEYS for k in original):
        raise fail(
            f"example {name!r}: 'original' overrides [example_source] keys: "
            + ", ".join(_SOURCE_KEYS),
            line,
        )
    strip = table.get("strip_links", False)
    if not isinstance(strip, bool):
        raise fail(f"example {name!r}: 'strip_links' must be true or false", line)
    url = table.get("url", STOCK_COPY_URL)
    if not isinstance(url, str):
        raise fail(f"example {name!r}: 'url' must be a string", line)
    return Example(
        name=name,
        expect=str(expect),
        fails=tuple(fails),
        html=html,
        url=url,
        line=line or 0,
        edits=tuple((a, b) for a, b in edits),
        original=dict(original),
        strip_links=strip,
    )


# --- running examples ----------------------------------------------------------------------


def _linked(paragraph: str, links: tuple[tuple[str, str], ...]) -> str:
    for anchor, href in links:
        paragraph = paragraph.replace(anchor, f'<a href="{href}">{anchor}</a>', 1)
    return paragraph


def _fill(template: str, source: SourceArticle, links: tuple[tuple[str, str], ...] = ()) -> str:
    paragraphs = [_linked(p, links) for p in source.text.split("\n") if p.strip()]

    def value(m: re.Match[str]) -> str:
        name, first, dash, last = m.groups()
        if name == "article":
            chosen = paragraphs
            if first and dash:
                chosen = paragraphs[int(first) - 1 : int(last) if last else None]
            elif first:
                chosen = paragraphs[: int(first)]
            return "\n".join(f"<p>{p}</p>" for p in chosen)
        if name == "author":
            return source.authors[0] if source.authors else ""
        if name == "authors":
            names = list(source.authors)
            return (
                " and ".join(names)
                if len(names) < 3
                else ", ".join(names[:-1]) + " and " + names[-1]
            )
        return str(getattr(source, name) or "")

    return _PLACEHOLDER.sub(value, template)


def run_example(ruleset: RuleSet, source: SourceArticle, example: Example) -> ExampleResult:
    if example.original:
        source = SourceArticle(
            **{
                **source.__dict__,
                **{
                    k: tuple(v) if isinstance(v, list) else v
                    for k, v in example.original.items()
                    if k != "links"  # the original's links are set once, in [example_source]
                },
            }
        )
    links: tuple[tuple[str, str], ...] = ()
    if source.html and not example.strip_links:
        links = tuple(in_body_links(source.html, source.url, source.text))
    html = _fill(example.html, source, links)
    for old, new in example.edits:
        html = html.replace(old, new)
    page = extract_html(example.url, html)
    config = MatchConfig()
    found, copy = judge(source.text, page.full_text, config)
    if not copy:
        return ExampleResult(example, "not a copy", (), (), found.coverage)
    match = Match(source.url, found.coverage, config.kind_for(found.coverage), found.passages)
    findings = run_checks(ruleset, page, source, match)
    failed = tuple(f.rule for f in findings if f.counts_as_violation)
    verdict = "violation" if failed else "compliant"
    return ExampleResult(example, verdict, failed, findings, found.coverage)


def run_pack(path: Path) -> PackResult:
    """Every example of the rule file at `path`, run against the file's rules."""
    ruleset = load_ruleset(str(path))
    try:
        source, examples = _read(path, ruleset)
    except tomllib.TOMLDecodeError as exc:  # load_ruleset reports these first
        raise RuleError(f"not valid TOML: {exc}", path=str(path)) from None
    results = tuple(run_example(ruleset, source, e) for e in examples)
    return PackResult(str(path), ruleset.name, results)


def _files(spec: str) -> Iterator[Path]:
    root = Path(spec)
    if root.is_dir():
        files = sorted(root.rglob("*.toml"))
        if not files:
            raise RuleError("no .toml rule files in this folder", path=str(root))
        yield from files
        return
    yield _resolve_spec(spec)


def run_examples(spec: str) -> list[PackResult]:
    """Run the examples of a pack (by name), a rule file, or every rule file in a folder."""
    return [run_pack(path) for path in _files(spec)]
