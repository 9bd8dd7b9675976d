"""The JSON Lines reader: one {url, title, author, published, text|html} object a line.

In: the file's bytes and its name. Out: articles into the Collector; a well-formed record whose
body is empty is skipped (SkipCode.SOURCE, the file and line in the reason); a malformed one
raises SourceError naming the file and line. Records are split on "\n" only: U+2028, U+0085 and
the other characters str.splitlines() breaks on are text inside a JSON string, and raw control
characters in strings (which strict JSON wants escaped) are accepted."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from xpostcheck.errors import SourceError
from xpostcheck.extract.page import article_from_html
from xpostcheck.models import SourceArticle
from xpostcheck.sources.collect import Collector, text_of

# strict=False: a raw tab or control character inside a string is text, as producers write it.
_DECODER = json.JSONDecoder(strict=False)


def read_jsonl(c: Collector, spec: str, data: bytes) -> None:
    """Every record of a JSON Lines file; a record without article text is skipped."""
    found = False
    for number, line in enumerate(text_of(spec, data).split("\n"), 1):
        if not line.strip():
            continue
        where = f"{spec}:{number}"
        try:
            obj = _DECODER.decode(line.strip())
        except RecursionError:
            raise SourceError(
                "JSON nested too deeply to read; write one flat JSON object a line", where=where
            ) from None
        except ValueError as exc:
            raise SourceError(
                f"not valid JSON ({getattr(exc, 'msg', exc)}); write one JSON object a line",
                where=where,
            ) from exc
        try:
            c.add(_article_from_json(obj, where, c.publisher))
        except _NoText as exc:
            c.skip(exc.url, f"{exc.reason} ({where})")
        found = True
    if not found:
        raise SourceError(
            "no articles: the JSON Lines file is empty; write one "
            '{"url": ..., "title": ..., "text": ...} object a line',
            where=spec,
        )


class _NoText(Exception):
    """A well-formed JSON Lines record whose article body is empty: skipped, not fatal."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise SourceError(f"'{field}' must be a string or a list of strings", where=where)


def _optional_str(obj: dict[str, Any], field: str, where: str) -> str | None:
    value = obj.get(field)
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) and value.strip() else None
    raise SourceError(f"'{field}' must be a string", where=where)


def _article_from_json(obj: Any, where: str, publisher: str) -> SourceArticle:
    if not isinstance(obj, dict):
        raise SourceError(
            f"expected a JSON object {{url, title, author, published, text|html}}, "
            f"got {type(obj).__name__}",
            where=where,
        )
    url = obj.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SourceError("missing 'url' (the original article's address)", where=where)
    url = url.strip()
    title = _optional_str(obj, "title", where) or ""
    authors = _strings(obj.get("author", obj.get("authors")), "author", where)
    published = _optional_str(obj, "published", where)
    images = _strings(obj.get("images"), "images", where)
    publisher = _optional_str(obj, "publisher", where) or publisher
    text = obj.get("text")
    html = obj.get("html")
    if text is not None and not isinstance(text, str):
        raise SourceError("'text' must be a string", where=where)
    if html is not None and not isinstance(html, str):
        raise SourceError("'html' must be a string", where=where)
    if text and text.strip():
        return SourceArticle(
            url=url,
            title=title,
            text=text,
            authors=authors,
            published=published,
            publisher=publisher,
            images=images,
            html=html,
        )
    if html and html.strip():
        article = article_from_html(url, html, publisher=publisher)
        if not article.text.strip():
            raise _NoText(url, "no article text found in 'html'")
        return replace(
            article,
            title=title or article.title,
            authors=authors or article.authors,
            published=published or article.published,
            images=images or article.images,
        )
    if text is None and html is None:
        raise SourceError("missing 'text' or 'html' (the article's body)", where=where)
    if text is not None and html is not None:
        raise _NoText(url, "no article text: 'text' and 'html' are empty")
    raise _NoText(url, f"no article text: '{'text' if text is not None else 'html'}' is empty")
