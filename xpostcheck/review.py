"""Review tasks over a scan database: history listings and compliance notices."""

from __future__ import annotations

import dataclasses
import gzip
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import XPostCheckError
from .match import SourceIndex
from .notice import draft_notice, find_contacts, load_template
from .rules import load_ruleset
from .store import Store


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


def _html_from_warc(data: bytes) -> str:
    """The body of the first response record in a WARC blob, decoded leniently."""
    from warcio.archiveiterator import ArchiveIterator

    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    for record in ArchiveIterator(io.BytesIO(raw)):
        if record.rec_type == "response":
            body: bytes = record.content_stream().read()
            return body.decode("utf-8", errors="replace")
    return ""


def notice_for(
    store: Store,
    url: str,
    rules: str,
    *,
    index_path: str | Path,
    template_path: str | Path | None = None,
) -> str:
    """Draft the compliance notice for the copies recorded at `url` by its latest scan."""
    copies = [c for c in store.previous_copies(url) if c.verdict == "violation"]
    if not copies:
        raise XPostCheckError(
            "no violation recorded for this URL in the latest scan; nothing to ask for", where=url
        )
    ruleset = load_ruleset(rules)
    index = SourceIndex.load(index_path) if Path(index_path).exists() else None
    evidence = store.evidence(url)
    contacts = find_contacts(_html_from_warc(evidence), url) if evidence else []
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
