"""WARC files as a source of pages: the pages to check come from an archive, not a crawl.

In: WARC inputs, each a local file (plain, gzipped per record as Common Crawl's CC-NEWS and
main crawl files are, or gzipped whole) or an http(s) URL, read as a stream through the scan's
politeness layer (robots.txt, the host's delay, the address policy, the User-Agent) without
ever holding the whole file. Out: page events like the crawler's: a `WarcFetched` (a Fetched
that also names its record: file, offset and WARC-Record-ID) for each `response` record of an
HTTP 200 HTML page, and a `Skipped` for each other response (an error status, not HTML, a
broken HTTP header, a body over the size cap, a content encoding that does not decode) and
each record or stretch of file that cannot be read (corrupt, truncated), whose reason names the
file and the offset. Request, metadata, warcinfo and revisit records are not pages and are
passed over without a word. A bad record never stops the reading: the rest of the file is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, SkipCode, Skipped, header
from xpostcheck.net.decode import (
    Decoder,
    decode_body,
    is_html_type,
    looks_binary,
    sniff_html,
)
from xpostcheck.pages.base import PageEvent
from xpostcheck.pages.polite import Politeness
from xpostcheck.pages.warcread import Readable, RecordProblem, WarcRecord, read_records

__all__ = ["WarcFetched", "WarcSource", "is_remote", "read_again", "warc_name"]

_MAX_HTTP_HEADER = 1 << 16


@dataclass(frozen=True)
class WarcFetched(Fetched):
    """A page read from a WARC record. `record` names it: `file#offset <record id>`; `again`
    is the local file it can be read again from at `offset` ("" when it cannot: a download,
    or a record inside another's gzip member)."""

    record: str = ""
    again: str = ""
    offset: int = -1


def is_remote(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def warc_name(spec: str) -> str:
    """How reports name a WARC input: a URL as given, a file by its absolute path."""
    return spec if is_remote(spec) else os.path.abspath(spec)


class WarcSource:
    """Reads page events from WARC inputs (a `PageSource`: `crawl` ignores its sites and URLs,
    the archives are the pages). `max_bytes` caps one page's body, as a fetch's cap does.
    With `hash_bodies` False, pages come without their `content_hash` (a caller that looks at
    most pages only briefly computes it for the few it keeps)."""

    def __init__(
        self,
        specs: Sequence[str],
        polite: Politeness | None = None,
        *,
        max_bytes: int = 10_000_000,
        hash_bodies: bool = True,
    ) -> None:
        self.specs = tuple(specs)
        self.polite = polite
        self.max_bytes = max_bytes
        self.hash_bodies = hash_bodies

    def crawl(self, sites: Sequence[str] = (), urls: Sequence[str] = ()) -> Iterator[PageEvent]:
        for spec in self.specs:
            yield from self.read(spec)

    def read(self, spec: str) -> Iterator[PageEvent]:
        """The page events of one WARC input; an input that cannot be opened is one Skipped."""
        name = warc_name(spec)
        try:
            with self._open(spec) as stream:
                for item in read_records(stream, max_block=self.max_bytes + _MAX_HTTP_HEADER):
                    event = self._event(name, item)
                    if event is not None:
                        yield event
        except FetchError as exc:
            yield Skipped(spec, f"cannot read WARC {name}: {exc.reason}", exc.code)
        except OSError as exc:
            # A file that cannot be opened, or a download cut off: the records read so far
            # stand, and the rest of the input is lost (said here).
            why = exc.strerror or str(exc) or type(exc).__name__
            yield Skipped(spec, f"cannot read WARC {name}: {why}", SkipCode.SOURCE)

    @contextmanager
    def _open(self, spec: str) -> Iterator[Readable]:
        if not is_remote(spec):
            with open(spec, "rb") as f:
                yield f
            return
        if self.polite is None:
            raise FetchError(spec, "no politeness layer to download it with", SkipCode.OTHER)
        with self.polite.stream(spec) as body:
            yield body

    def _event(self, name: str, item: WarcRecord | RecordProblem) -> PageEvent | None:
        if isinstance(item, RecordProblem):
            where = f"{name}#{item.offset}"
            return Skipped(where, f"{where}: {item.reason}", SkipCode.SOURCE)
        if item.type != "response":
            return None
        again = name if item.seekable and not is_remote(name) else ""
        return page_of(name, item, self.max_bytes, hash_body=self.hash_bodies, again=again)


def read_again(path: str, offset: int, max_bytes: int) -> PageEvent | None:
    """The page event of the response record at `offset` of a local WARC file (a
    `WarcFetched.again` and `offset`), read once more; None when there is no such record
    there any more (the file changed) or it is not a page."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            for item in read_records(f, max_block=max_bytes + _MAX_HTTP_HEADER):
                if not isinstance(item, WarcRecord) or item.type != "response":
                    return None
                item = dataclasses.replace(item, offset=offset)
                return page_of(path, item, max_bytes, hash_body=False, again=path)
    except OSError:
        return None
    return None


def page_of(
    name: str, record: WarcRecord, max_bytes: int, *, hash_body: bool = True, again: str = ""
) -> PageEvent | None:
    """The page event of one `response` record (None for a non-HTTP response: dns:, ftp:)."""
    url = (record.header("WARC-Target-URI") or "").strip().strip("<>")
    where = f"{name}#{record.offset}"
    if not url.lower().startswith(("http://", "https://")):
        return None

    def skip(reason: str, code: SkipCode) -> Skipped:
        return Skipped(url, f"{reason} (WARC record {where})", code)

    if not record.complete:
        return skip(f"body of {record.length} bytes is over the cap", SkipCode.TOO_LARGE)
    head, sep, body = _split_http(record.block)
    if not sep:
        return skip("broken HTTP header in the record", SkipCode.SOURCE)
    lines = head.decode("iso-8859-1").split("\n")
    status_line = lines[0].strip()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        return skip(f"broken HTTP status line {status_line[:60]!r}", SkipCode.SOURCE)
    status = int(parts[1])
    headers = _http_headers(lines[1:])
    if headers is None:
        return skip("broken HTTP header in the record", SkipCode.SOURCE)
    if status != 200:
        code = SkipCode.GONE if status in (404, 410) else SkipCode.HTTP_ERROR
        if 300 <= status < 400:
            code = SkipCode.OTHER
        return skip(f"HTTP {status} in the archive", code)
    content_type = header(headers, "Content-Type")
    payload_type = record.header("WARC-Identified-Payload-Type")
    if content_type and not is_html_type(content_type):
        main = content_type.split(";", 1)[0].strip().lower()
        return skip(f"not HTML (content type {main})", SkipCode.NOT_HTML)
    try:
        if "chunked" in (header(headers, "Transfer-Encoding") or "").lower():
            body = _dechunk(body)
        body = _decoded(url, body, header(headers, "Content-Encoding"), max_bytes)
    except FetchError as exc:
        return skip(exc.reason, exc.code)
    html_typed = bool(content_type) or bool(payload_type and is_html_type(payload_type))
    if not html_typed and not sniff_html(body):
        return skip("not HTML (no content type, and the body is not HTML)", SkipCode.NOT_HTML)
    if looks_binary(body):
        return skip("binary body served as HTML", SkipCode.NOT_HTML)
    text, encoding = decode_body(body, content_type)
    record_id = (record.header("WARC-Record-ID") or "").strip()
    return WarcFetched(
        url=url,
        final_url=url,
        status=status,
        headers=headers,
        body=body,
        text=text,
        encoding=encoding,
        fetched_at=(record.header("WARC-Date") or "").strip(),
        content_hash=hashlib.sha256(body).hexdigest() if hash_body else "",
        raw_headers_block=head + sep,
        record=f"{where} {record_id}".strip(),
        again=again,
        offset=record.offset,
    )


def _split_http(block: bytes) -> tuple[bytes, bytes, bytes]:
    end = block.find(b"\r\n\r\n", 0, _MAX_HTTP_HEADER)
    if end >= 0:
        return block[:end], b"\r\n\r\n", block[end + 4 :]
    end = block.find(b"\n\n", 0, _MAX_HTTP_HEADER)
    if end >= 0:
        return block[:end], b"\n\n", block[end + 2 :]
    return block, b"", b""


def _http_headers(lines: list[str]) -> tuple[tuple[str, str], ...] | None:
    out: list[tuple[str, str]] = []
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            if out and line[:1] in (" ", "\t"):
                out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
                continue
            return None
        if not name.strip() or any(c in name for c in " \t"):
            return None
        out.append((name.strip(), value.strip()))
    return tuple(out)


def _dechunk(body: bytes) -> bytes:
    """A chunked body joined; a body that is not (many archives store it dechunked, with
    the header kept) is returned as it is."""
    out: list[bytes] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        size_text = body[pos:end].split(b";", 1)[0].strip() if end >= 0 else b""
        try:
            size = int(size_text, 16)
        except ValueError:
            return body
        if size == 0:
            return b"".join(out)
        start = end + 2
        if start + size > len(body):
            return body
        out.append(body[start : start + size])
        pos = start + size + 2


def _decoded(url: str, body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """The body with its Content-Encoding undone, within the size cap. Archives often store
    the body decoded while keeping the header: a gzip header on a body that is not gzip is
    taken as such a body."""
    enc = (encoding or "").strip().lower()
    if enc in ("gzip", "x-gzip") and not body.startswith(b"\x1f\x8b"):
        enc = ""
    if enc == "br" and sniff_html(body):
        enc = ""
    decoder = Decoder(enc, max_bytes, url)
    return decoder.feed(body)
