"""Response bodies: Content-Encoding decoding under a size cap, HTML checks, and the charset.

In: body bytes (streamed chunk by chunk), the Content-Encoding and Content-Type headers. Out:
decoded bytes, then text and the encoding it was read with (`decode_body`), or FetchError (with
its SkipCode) for a body too large, in an unknown encoding, broken, or not HTML where HTML was
asked for. The size cap applies to the decompressed bytes, so gzip and brotli bombs stop at the
cap, never in memory. The charset comes from the BOM, the header, <meta>, then a sniff.
Saved pages read from disk go through the same `decode_body` as fetched ones."""

from __future__ import annotations

import codecs
import re
import zlib
from typing import Any

import brotli
import charset_normalizer

from xpostcheck.errors import FetchError
from xpostcheck.models import SkipCode

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFF = 64 * 1024


class Decoder:
    """Content-Encoding decoding with a cap on the decoded size."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.url = url
        self.limit = limit
        self.total = 0
        enc = ",".join(p.strip() for p in encoding.lower().split(",") if p.strip())
        self.kind = enc
        self.zlib: Any = None
        self.brotli: Any = None
        if enc in ("", "identity"):
            self.kind = ""
        elif enc in ("gzip", "x-gzip", "deflate"):
            self.zlib = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
            self.first = True
        elif enc == "br":
            self.brotli = brotli.Decompressor()
        else:
            raise FetchError(url, f"unsupported content encoding {encoding!r}", SkipCode.NOT_HTML)

    def _room(self) -> int:
        return self.limit - self.total + 1

    def _count(self, out: bytes) -> bytes:
        self.total += len(out)
        if self.total > self.limit:
            raise FetchError(
                self.url,
                f"body larger than {self.limit} bytes once decompressed",
                SkipCode.TOO_LARGE,
            )
        return out

    def feed(self, chunk: bytes) -> bytes:
        if not self.kind:
            return self._count(chunk)
        try:
            if self.zlib is not None:
                return self._feed_zlib(chunk)
            return self._feed_brotli(chunk)
        except (zlib.error, brotli.error) as exc:
            raise FetchError(self.url, f"broken {self.kind} body (cannot decompress it)") from exc

    def _feed_zlib(self, chunk: bytes) -> bytes:
        if self.first and self.kind == "deflate":
            self.first = False
            try:
                probe = zlib.decompressobj(wbits=47)
                probe.decompress(chunk[:2048], 1)
            except zlib.error:  # raw deflate without the zlib header, as some servers send
                self.zlib = zlib.decompressobj(wbits=-15)
        self.first = False
        parts = [self._count(self.zlib.decompress(chunk, self._room()))]
        while True:
            if self.zlib.unconsumed_tail:
                data = self.zlib.unconsumed_tail
            elif self.zlib.eof and self.zlib.unused_data[:2] == b"\x1f\x8b":
                data = self.zlib.unused_data  # the next member of a multi-member gzip body
                self.zlib = zlib.decompressobj(wbits=31)
            else:
                break
            parts.append(self._count(self.zlib.decompress(data, self._room())))
        return b"".join(parts)

    def _feed_brotli(self, chunk: bytes) -> bytes:
        parts = [self._count(self.brotli.process(chunk, output_buffer_limit=self._room()))]
        while not self.brotli.can_accept_more_data():
            parts.append(self._count(self.brotli.process(b"", output_buffer_limit=self._room())))
        return b"".join(parts)


# --- encodings ---------------------------------------------------------------------------------

_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What browsers do (WHATWG Encoding): these labels mean windows-1252.
_AS_1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})


def _codec(label: str | None) -> str | None:
    """A Python codec name for an encoding label, or None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    if name in _AS_1252:
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return None  # a page cannot declare itself UTF-16 in ASCII-compatible bytes; sniff
    return name


def charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The encoding of an HTML body: BOM, then the Content-Type header, then <meta>, then a
    sniff (UTF-8 when the bytes are valid UTF-8, else charset_normalizer)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = _codec(charset_of(content_type))
    if declared:
        return declared
    match = _CHARSET_RE.search(body[:4096])
    if match:
        meta = _codec((match.group(1) or match.group(2)).decode("ascii", "replace"))
        if meta:
            return meta
    sample = body[:_SNIFF]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(body) > _SNIFF:
            return "utf-8"  # only a character cut at the sample's end
    if sum(b > 0x7F for b in sample) < 8:
        return "cp1252"  # too few non-ASCII bytes to sniff: the web's default (WHATWG)
    best = charset_normalizer.from_bytes(sample).best()
    return _codec(best.encoding if best else None) or "cp1252"


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    encoding = detect_encoding(body, content_type)
    text = body.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def is_html_type(content_type: str | None) -> bool:
    main = (content_type or "").split(";", 1)[0].strip().lower()
    return main in HTML_TYPES


def sniff_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        b"<html" in head or b"<body" in head
    )


def looks_binary(body: bytes) -> bool:
    head = body[:1024]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def refuse_non_html_type(url: str, content_type: str | None) -> None:
    """Raise FetchError(NOT_HTML) for a declared content type that is not HTML."""
    if content_type and not is_html_type(content_type):
        main = content_type.split(";", 1)[0].strip().lower()
        raise FetchError(url, f"not HTML (content type {main})", SkipCode.NOT_HTML)


def refuse_non_html_body(url: str, content_type: str | None, body: bytes) -> None:
    """Raise FetchError(NOT_HTML) for a body that is not HTML: untyped and not sniffed as HTML,
    or binary whatever its type."""
    if not content_type and not sniff_html(body):
        raise FetchError(
            url,
            "not HTML (no content type, and the body is not HTML)",
            SkipCode.NOT_HTML,
        )
    if looks_binary(body):
        raise FetchError(url, "binary body served as HTML", SkipCode.NOT_HTML)
