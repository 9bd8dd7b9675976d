"""Decoding: saved or fetched HTML bytes to text, and text to an lxml tree.

In: bytes with an optional declared charset; decoded HTML text. Out: str (same policy as
fetched pages: BOM, declared charset, meta charset, sniff); an lxml tree, or None for junk.
Nothing here raises on bad input.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import lxml.html
from lxml import etree

from xpostcheck.net.decode import decode_body

__all__ = ["decode_html", "looks_binary", "parse_html", "without_surrogates"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_LOG = logging.getLogger(__name__)


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Decode saved HTML bytes with the same policy as fetched pages (net.decode.decode_body): BOM,
    then `declared` (e.g. from Content-Type), then the meta charset, then a sniff."""
    return decode_body(data, f"text/html; charset={declared}" if declared else None)[0]


def looks_binary(text: str) -> bool:
    """True for decoded binary junk: many control or replacement characters near the start."""
    head = text[:4096]
    if not head:
        return False
    bad = len(_CONTROL.findall(head)) + head.count("\ufffd")
    return bad > max(8, len(head) // 20)


def without_surrogates(html: str) -> str:
    """The text with lone surrogates replaced: lxml, JSON and SQLite would all choke on them
    (and lxml drops the rest of the text after one)."""
    if _SURROGATE.search(html):
        html = _SURROGATE.sub("\ufffd", html)
    return html


def parse_html(html: str) -> Any:
    """The lxml tree trafilatura would build, or a plain lxml parse of fragments; None if junk."""
    if not html.strip() or looks_binary(html):
        return None
    html = _CONTROL.sub("", html)
    html = without_surrogates(html)
    try:
        from trafilatura.utils import load_html

        tree = load_html(html)
        if tree is not None:
            return tree
    except Exception:  # trafilatura's loader is a convenience; fall back to lxml
        _LOG.debug("trafilatura.load_html failed", exc_info=True)
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
