"""Main text: trafilatura's article text, title, byline and date for a parsed page.

In: the lxml tree (trafilatura works on its own copy) and the page URL. Out: a tuple of
strings, empty when the extractor fails; only a broken install (ImportError) is raised.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["main_text"]

_LOG = logging.getLogger(__name__)


def main_text(tree: Any, url: str) -> tuple[str, str, str | None, str | None]:
    """(text, title, author, date) from trafilatura; empty on failure."""
    try:
        from trafilatura import bare_extraction

        doc = bare_extraction(
            tree,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            favor_precision=True,
            # No extensive search: it guesses dates from copyright years and "today".
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
    except ImportError:  # a broken install, not a bad page: say so (seen with lxml 6.1)
        raise
    except Exception:  # a third-party extractor must not stop a scan
        _LOG.debug("trafilatura failed on %s", url, exc_info=True)
        return "", "", None, None
    if doc is None:
        return "", "", None, None
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    text, title, author, date = (get(k) for k in ("text", "title", "author", "date"))
    return (
        text if isinstance(text, str) else "",
        title if isinstance(title, str) else "",
        author if isinstance(author, str) else None,
        date if isinstance(date, str) else None,
    )
