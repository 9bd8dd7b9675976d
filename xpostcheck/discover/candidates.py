"""Candidate republishers found by discovery (access logs, web search, web archives).

In: whatever a discovery method saw. Out: `Candidate` rows, one per site, ranked; the CLI prints
them as a table, JSON, or one URL per line for `scan --sites-file` / `--url`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Candidate"]


@dataclass(frozen=True)
class Candidate:
    """One candidate site: where copies may be, and why we think so."""

    site: str  # the site's root URL, "https://host[:port]/"
    pages: tuple[str, ...] = ()  # candidate page URLs on that site, best first
    hits: int = 0  # how many times it was seen (log requests, search results, archive records)
    distinct_pages: int = 0  # distinct candidate pages
    method: str = ""  # "access-log" | "search" | "warc"
    evidence: tuple[str, ...] = field(default=())  # short human-readable reasons
