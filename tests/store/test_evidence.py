"""WARC evidence: the exact response of a copy's page, written, indexed and read back."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import Route, Server
from warcio.archiveiterator import ArchiveIterator

from xpostcheck.errors import StoreError
from xpostcheck.models import Fetched
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.store import open_store
from xpostcheck.store.evidence import http_block
from xpostcheck.store.sqlite import SqliteStore

PAGE = (
    "<!doctype html><html><head><title>Ferry cuts</title></head><body>"
    "<p>The ferry will run twice a day from March. \u00a9 2024 Harbor News</p></body></html>"
).encode()
GZIPPED = gzip.compress(PAGE, mtime=0)


@pytest.fixture()
def site() -> Iterator[str]:
    routes: dict[str, Route] = {
        "/page": (
            200,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": str(len(PAGE)),
                "ETag": '"plain-1"',
                "X-Odd": "  spaced   value",
            },
            PAGE,
        ),
        "/gz": (
            200,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(GZIPPED)),
                "ETag": '"gz-1"',
            },
            GZIPPED,
        ),
    }
    with Server(routes) as server:
        yield server.base


def _fetch(url: str) -> Fetched:
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"})))
    try:
        return fetcher.fetch(url)
    finally:
        fetcher.close()


def _records(blob: bytes, *, parse: bool = True) -> list[tuple[dict[str, str], bytes, bytes]]:
    """(WARC headers, HTTP header block, body) of each record in a .warc.gz blob."""
    out = []
    for rec in ArchiveIterator(io.BytesIO(blob), no_record_parse=not parse):
        headers = dict(rec.rec_headers.headers)
        if parse:
            out.append((headers, rec.http_headers.to_bytes(), rec.raw_stream.read()))
        else:
            out.append((headers, b"", rec.raw_stream.read()))
    return out


def test_warc_record_read_back_byte_for_byte(tmp_path: Path, site: str) -> None:
    fetched = _fetch(site + "/page")
    assert fetched.body == PAGE
    store = SqliteStore(tmp_path / "scans.db")
    scan = store.begin_scan("k", "2024-05-06T06:00:00+00:00")
    store.record_page(scan, fetched, is_copy=True)
    blob = store.evidence(site + "/page")
    store.close()
    assert blob is not None
    # The stored gzip member is exactly what the export gives, and the index points at it.
    warc_file = tmp_path / "scans-evidence" / f"scan-{scan:06d}.warc.gz"
    assert warc_file.read_bytes() == blob
    [(headers, _none, block)] = _records(blob, parse=False)
    # The WARC block is the received header block followed by the body, byte for byte.
    assert block == fetched.raw_headers_block + PAGE
    assert headers["WARC-Type"] == "response"
    assert headers["WARC-Target-URI"] == site + "/page"
    assert headers["WARC-Date"] == fetched.fetched_at.replace("+00:00", "Z")
    assert headers["Content-Type"] == "application/http; msgtype=response"
    assert headers["Content-Length"] == str(len(block))
    import base64

    assert headers["WARC-Payload-Digest"] == "sha256:" + base64.b32encode(
        hashlib.sha256(PAGE).digest()
    ).decode("ascii")
    assert headers["WARC-Block-Digest"] == "sha256:" + base64.b32encode(
        hashlib.sha256(block).digest()
    ).decode("ascii")
    # And warcio parses it as an HTTP response with the body intact.
    [(_h, http_head, body)] = _records(blob)
    assert http_head.startswith(b"HTTP/1.")
    assert body == PAGE


def test_encodings_the_client_undid_are_renamed(tmp_path: Path, site: str) -> None:
    fetched = _fetch(site + "/gz")
    assert fetched.body == PAGE  # the fetcher decoded it
    block = http_block(fetched)
    assert b"\r\nX-Archive-Orig-Content-Encoding: gzip\r\n" in block
    assert b"\r\nX-Archive-Orig-Content-Length: " in block
    assert b"\r\nContent-Encoding" not in block
    with SqliteStore(tmp_path / "s.db") as store:
        scan = store.begin_scan("k", "t")
        store.record_page(scan, fetched, is_copy=True)
        blob = store.evidence(site + "/gz")
    assert blob is not None
    [(_h, _head, body)] = _records(blob)
    assert body == PAGE


def _made(url: str, body: bytes, fetched_at: str, **kw: object) -> Fetched:
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html"), ("ETag", '"e"')),
        body=body,
        text=body.decode(),
        encoding="utf-8",
        fetched_at=fetched_at,
        content_hash=hashlib.sha256(body).hexdigest(),
        **kw,  # type: ignore[arg-type]
    )


def test_rebuilt_header_block_when_the_fetcher_kept_none() -> None:
    fetched = _made("http://a.example/p", b"<p>x</p>", "2024-01-01T00:00:00+00:00")
    assert http_block(fetched) == (
        b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: "e"\r\n\r\n'
    )


def test_evidence_latest_first_and_only_for_copies(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    s1 = store.begin_scan("k", "2024-01-01T00:00:00+00:00")
    store.record_page(
        s1, _made("http://a.example/p", b"<p>one</p>", "2024-01-01T00:00:01Z"), is_copy=True
    )
    store.record_page(
        s1, _made("http://a.example/q", b"<p>no copy</p>", "2024-01-01T00:00:02Z"), is_copy=False
    )
    s2 = store.begin_scan("k", "2024-01-08T00:00:00+00:00")
    store.record_page(
        s2, _made("http://a.example/p", b"<p>two</p>", "2024-01-08T00:00:01Z"), is_copy=True
    )
    blob = store.evidence("http://A.example/p#frag")  # canonical form finds it
    assert store.evidence("http://a.example/q") is None
    store.close()
    assert blob is not None
    assert [body for _h, _head, body in _records(blob)] == [b"<p>two</p>", b"<p>one</p>"]


def test_tampered_evidence_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    scan = store.begin_scan("k", "t")
    store.record_page(
        scan, _made("http://a.example/p", b"<p>one</p>", "2024-01-01T00:00:01Z"), is_copy=True
    )
    path = tmp_path / "x-evidence" / "scan-000001.warc.gz"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        store.evidence("http://a.example/p")
    store.close()
    assert str(err.value) == (
        f"{path}: WARC record at offset 0 does not match its recorded SHA-256; "
        "the evidence file was changed or truncated after it was written"
    )


def test_read_responses_gives_what_was_archived(tmp_path: Path) -> None:
    from xpostcheck.store.evidence import ArchivedResponse, read_responses

    store = open_store(tmp_path / "x.db")
    scan = store.begin_scan("k", "t")
    one = _made("http://a.example/p", b"<p>one</p>", "2024-01-01T00:00:01+00:00")
    store.record_page(scan, one, is_copy=True)
    blob = store.evidence("http://a.example/p")
    store.close()
    assert blob is not None
    assert read_responses(blob) == [
        ArchivedResponse(
            target_uri="http://a.example/p",
            date="2024-01-01T00:00:01Z",
            status=200,
            header_block=b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: "e"\r\n\r\n',
            body=b"<p>one</p>",
            payload_digest="sha256:"
            + __import__("base64").b32encode(hashlib.sha256(b"<p>one</p>").digest()).decode(),
        )
    ]
    with pytest.raises(StoreError) as err:
        read_responses(b"garbage" * 20)
    assert str(err.value).startswith("evidence: not a readable WARC: ")
