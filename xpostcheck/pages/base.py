"""PageSource: the seam every source of pages plugs into.

In: sites (to crawl) and single URLs (to read without following links). Out: an iterator of
page events, `Fetched` for each page read (304-unchanged ones too) and `Skipped` (with its
SkipCode) for each URL not read. The Crawler implements it; a WARC reader and discovered sites
are meant to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from xpostcheck.models import Fetched, Skipped

PageEvent = Fetched | Skipped


@runtime_checkable
class PageSource(Protocol):
    """Anything that yields page events for sites and single URLs."""

    def crawl(self, sites: Sequence[str], urls: Sequence[str] = ()) -> Iterator[PageEvent]:
        """Yield a Fetched for each page read and a Skipped for each URL not read. Pages of
        `sites` are found within each site; `urls` are read alone. The iterator may be closed
        early; a source then stops its work."""
        ...
