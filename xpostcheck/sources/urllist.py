"""The URL list reader: a text file of article URLs, one a line (blank lines and `#` comments
are ignored).

In: the file's bytes and its name. Out: every URL fetched and read as an article page into the
Collector, or skipped with the fetch's reason and code. A line that is not an http(s) URL raises
SourceError naming the file and line."""

from __future__ import annotations

from urllib.parse import urlsplit

from xpostcheck.errors import SourceError
from xpostcheck.sources.collect import HOW, Collector, text_of


def read_url_list(c: Collector, spec: str, data: bytes) -> None:
    """Every article URL of a text file, fetched; a URL that cannot be read is skipped."""
    urls: list[str] = []
    for number, line in enumerate(text_of(spec, data).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        token = line.split()[0]
        parts = urlsplit(token)
        if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
            raise SourceError(
                f"not an http(s) URL: {token!r}; a URL list holds one article URL a line "
                f"(# starts a comment); otherwise {HOW}",
                where=f"{spec}:{number}",
            )
        urls.append(token)
    if not urls:
        raise SourceError(
            "no article URLs in the file; write one URL a line (# starts a comment)",
            where=spec,
        )
    for url in urls:
        if c.has(url):
            continue
        fetched = c.get(url)
        if fetched is not None:
            c.add_page(url, fetched)
