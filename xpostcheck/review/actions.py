"""Review tasks over a scan database: history listings and compliance notices."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xpostcheck.errors import XPostCheckError
from xpostcheck.match.index import SourceIndex
from xpostcheck.models import Copy
from xpostcheck.net.decode import decode_body
from xpostcheck.review.notice import draft_notice, find_contacts, load_template
from xpostcheck.rules.loader import load_ruleset
from xpostcheck.store.evidence import read_responses
from xpostcheck.store.sqlite import Store


def format_history(rows: Sequence[Any]) -> str:
    """A plain table of scan summaries (any dataclass rows), newest first."""
    if not rows:
        return "no scans recorded yet"
    dicts = [
        dataclasses.asdict(r)
        if dataclasses.is_dataclass(r) and not isinstance(r, type)
        else dict(r)
        for r in rows
    ]
    columns = list(dicts[0])
    cells = [[("" if d[c] is None else str(d[c])) for c in columns] for d in dicts]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(columns)] + [line(row) for row in cells])


def archived_html(store: Store, url: str) -> str | None:
    """The page at `url` as it was archived when its copy was last seen, decoded."""
    blob = store.evidence(url)
    if not blob:
        return None
    responses = read_responses(blob)
    if not responses:
        return None
    head = responses[0].header_block.decode("latin-1")
    content_type = next(
        (
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("content-type:")
        ),
        None,
    )
    return decode_body(responses[0].body, content_type)[0]


def _needs_notice(copy: Copy) -> bool:
    """An unmet error condition that nobody excused (a 'notified' mark still needs the fix)."""
    return any(
        not f.passed and f.severity == "error" and f.triage in (None, "notified")
        for f in copy.checks
    )


def notice_for(
    store: Store,
    url: str,
    rules: str | None = None,
    *,
    index_path: str | Path,
    template_path: str | Path | None = None,
) -> str:
    """Draft the compliance notice for the copies recorded at `url` by its latest scan.

    `rules` (a pack name or file) defaults to the rule set that scan used; one that is not the
    scan's is refused, since the notice cites the rules' publisher and policy."""
    recorded = store.previous_copies(url)
    copies = [c for c in recorded if _needs_notice(c)]
    if not copies:
        if any(not f.passed and f.severity == "error" for c in recorded for f in c.checks):
            raise XPostCheckError(
                "every violation recorded for this URL is triaged (licensed, ignored or a false "
                "positive); nothing to ask for",
                where=url,
            )
        raise XPostCheckError(
            "no violation recorded for this URL in the latest scan; nothing to ask for", where=url
        )
    scanned_with = store.rules_of_latest(url)
    if rules is None:
        if not scanned_with:
            raise XPostCheckError("the scan recorded no rule set; give --rules", where=url)
        try:
            ruleset = load_ruleset(scanned_with)
        except XPostCheckError:
            raise XPostCheckError(
                f"the copy was checked against '{scanned_with}', which is not a shipped pack; "
                "give its rule file with --rules",
                where=url,
            ) from None
    else:
        ruleset = load_ruleset(rules)
        if scanned_with and ruleset.name != scanned_with:
            raise XPostCheckError(
                f"the copy was checked against '{scanned_with}', not '{ruleset.name}'; "
                "give that pack or file with --rules, or leave --rules out",
                where=url,
            )
    index = SourceIndex.load(index_path) if Path(index_path).exists() else None
    page_html = archived_html(store, url)
    contacts = find_contacts(page_html, url) if page_html else []
    template = load_template(template_path) if template_path else None
    notices = [
        draft_notice(
            copy,
            index.get(copy.source_url) if index else None,
            ruleset,
            contacts=contacts,
            template=template,
        )
        for copy in copies
    ]
    return "\n\n".join(notices)
