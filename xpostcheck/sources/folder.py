"""The saved pages reader: a folder of saved HTML pages (*.html, *.htm, *.html.gz, searched
recursively), or one saved page given as a file.

In: file paths and bytes. Out: articles into the Collector, each with the URL the page names
(canonical, og:url) or else the file's URI; a file that cannot be read, or holds no article
text, is skipped. A folder without saved pages raises SourceError."""

from __future__ import annotations

from pathlib import Path

from xpostcheck.errors import SourceError
from xpostcheck.extract.page import article_from_saved_html, decode_html
from xpostcheck.sources.collect import HOW, Collector, gunzip

_SAVED_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


def read_folder(c: Collector, spec: str, folder: Path) -> None:
    """Every saved page under `folder` (recursively); a file that cannot be read is skipped."""
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(_SAVED_SUFFIXES)
    )
    if not files:
        raise SourceError(
            "the folder holds no saved pages (*.html, *.htm, *.html.gz); "
            "save the publisher's article pages there or " + HOW,
            where=spec,
        )
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            c.skip(str(path), f"cannot read ({exc.strerror or exc})")
            continue
        try:
            data = gunzip(data, str(path))
        except SourceError as exc:
            c.skip(str(path), str(exc).removeprefix(f"{path}: "))
            continue
        read_saved(c, str(path), path, data)


def read_saved(c: Collector, where: str, path: Path, data: bytes) -> None:
    """One saved HTML page (already gunzipped) as an article, its URL from the page itc."""
    html = decode_html(data)
    article = article_from_saved_html(html, path.resolve().as_uri(), publisher=c.publisher)
    if not article.text.strip():
        c.skip(where, "no article text found in the saved page")
        return
    c.add(article)
