"""The texts of a scan's copy pages, for report formats that show passages.

In: the full texts of the pages analysed in this scan, and the archived HTML of the copies
carried over unchanged from an earlier scan (read from the store's evidence before the store
closes). Out: `PageTexts`, the Mapping a RenderContext holds as `pages`. The pipeline does not
know which format will be rendered: a carried page's text is extracted from its HTML only when
a format asks for it (extracting costs about as much as analysing a new page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from xpostcheck.extract.page import extract_html
from xpostcheck.review.evidence import archived_html
from xpostcheck.store import Store


class PageTexts(dict[str, str]):
    """Page full texts by copy URL. Like a defaultdict, it holds what has been read so far:
    the analysed pages at first, and a carried page's text once it is asked for (`[url]` or
    `get`), extracted from its archived HTML then. So `== {}` holds for a report that showed
    no carried page's text and analysed no copy."""

    def __init__(self, analysed: Mapping[str, str], archived: Mapping[str, str]) -> None:
        super().__init__(analysed)
        self._archived = {u: h for u, h in archived.items() if u not in analysed}

    def __missing__(self, url: str) -> str:
        html = self._archived.pop(url, None)
        if html is None:
            raise KeyError(url)
        text = extract_html(url, html).full_text
        self[url] = text
        return text

    def get(self, url: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[url]
        except KeyError:
            return default

    @classmethod
    def from_store(
        cls, store: Store, analysed: Mapping[str, str], carried: Iterable[str]
    ) -> PageTexts:
        """The texts, with the archived HTML of every carried copy URL read from `store` now
        (the store may close before a format reads them)."""
        archived: dict[str, str] = {}
        for url in carried:
            if url not in analysed and url not in archived and (html := archived_html(store, url)):
                archived[url] = html
        return cls(analysed, archived)
