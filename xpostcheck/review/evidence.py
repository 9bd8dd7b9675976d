"""Pages as they were seen: a copy's archived response read back from the evidence archive and
decoded, for the report (page texts of unchanged pages) and for notices (contact links).

In: a Store and a URL. Out: the page's HTML as text, or None when nothing was archived.
"""

from __future__ import annotations

from xpostcheck.net.decode import decode_body
from xpostcheck.store import Store
from xpostcheck.store.evidence import read_responses

__all__ = ["archived_html"]


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
