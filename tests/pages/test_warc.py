"""WarcSource: WARC records to page events, local or over HTTP, and bad input told by offset."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from loopback import Server
from warcfix import write_warc

from xpostcheck.models import Fetched, SkipCode, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.net.policy import named_addresses
from xpostcheck.pages.polite import Politeness
from xpostcheck.pages.warc import WarcFetched, WarcSource, read_again
from xpostcheck.pages.warcread import RecordProblem, WarcRecord, read_records

PAGE = b"<!doctype html><html><body><p>A page about the harbor.</p></body></html>"


def _records() -> list[tuple[str, str, bytes] | tuple[str, str, bytes, list[tuple[str, str]]]]:
    return [
        ("http://a.example/one", "200 OK", PAGE),
        ("http://a.example/logo.png", "200 OK", b"\x89PNG\r\n", [("Content-Type", "image/png")]),
        ("http://a.example/gone", "404 Not Found", b"<p>no</p>"),
        ("http://a.example/moved", "301 Moved", b"", [("Location", "/one")]),
        ("http://a.example/two", "200 OK", PAGE.replace(b"harbor", b"ferry")),
    ]


def _summary(events: list[Fetched | Skipped]) -> list[tuple[str, str, str]]:
    out = []
    for e in events:
        if isinstance(e, WarcFetched):
            out.append(("page", e.url, e.text.split("<p>")[1].split("<")[0]))
        else:
            assert isinstance(e, Skipped)
            out.append((e.code.value, e.url, e.reason))
    return out


@pytest.mark.parametrize("compressed", [True, False])
def test_response_records_become_pages_and_the_rest_is_skipped_with_its_offset(
    tmp_path: Path, compressed: bool
) -> None:
    path = write_warc(tmp_path / "a.warc", _records(), gzip=compressed)
    events = list(WarcSource([str(path)]).crawl())
    offsets = [r.offset for r in read_records(path.open("rb"), max_block=1 << 20)]
    responses = offsets[1::2]  # a request record before each response
    name = str(path)
    assert _summary(events) == [
        ("page", "http://a.example/one", "A page about the harbor."),
        (
            "not_html",
            "http://a.example/logo.png",
            f"not HTML (content type image/png) (WARC record {name}#{responses[1]})",
        ),
        (
            "gone",
            "http://a.example/gone",
            f"HTTP 404 in the archive (WARC record {name}#{responses[2]})",
        ),
        (
            "other",
            "http://a.example/moved",
            f"HTTP 301 in the archive (WARC record {name}#{responses[3]})",
        ),
        ("page", "http://a.example/two", "A page about the ferry."),
    ]
    first = events[0]
    assert isinstance(first, WarcFetched)
    assert first.record.startswith(f"{name}#{responses[0]} <urn:uuid:")
    assert first.status == 200 and first.body == PAGE and first.fetched_at.startswith("20")


def test_offsets_are_those_of_the_gzip_members(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", _records())
    data = path.read_bytes()
    for record in read_records(path.open("rb"), max_block=1 << 20):
        assert isinstance(record, WarcRecord)
        member = gzip.decompress(data[record.offset :])  # a member starts right there
        assert member.startswith(b"WARC/1.")


@pytest.mark.parametrize("how", ["members", "plain", "whole"])
def test_a_page_is_read_again_from_its_offset_when_its_record_starts_there(
    tmp_path: Path, how: str
) -> None:
    path = write_warc(tmp_path / "a.warc", _records(), gzip=how == "members")
    if how == "whole":  # one gzip member for the whole file: no record but the first starts
        path.write_bytes(gzip.compress(path.read_bytes()))
    pages = [e for e in WarcSource([str(path)]).crawl() if isinstance(e, WarcFetched)]
    assert [p.url for p in pages] == ["http://a.example/one", "http://a.example/two"]
    if how == "whole":
        assert [(p.again, p.offset) for p in pages] == [("", 0), ("", 0)]
        return
    assert [p.again for p in pages] == [str(path), str(path)]
    for page in pages:
        again = read_again(page.again, page.offset, 1 << 20)
        assert isinstance(again, WarcFetched)
        assert (again.url, again.text, again.record) == (page.url, page.text, page.record)
    # Not the start of a response record: nothing (the file changed, or a request record).
    assert read_again(str(path), pages[0].offset + 1, 1 << 20) is None
    assert read_again(str(path), 0, 1 << 20) is None
    assert read_again(str(tmp_path / "gone.warc"), 0, 1 << 20) is None


def _cut(path: Path, keep: int) -> Path:
    out = path.with_name("cut-" + path.name)
    out.write_bytes(path.read_bytes()[:keep])
    return out


@pytest.mark.parametrize("compressed", [True, False])
def test_a_truncated_file_keeps_its_records_and_says_where_it_ends(
    tmp_path: Path, compressed: bool
) -> None:
    path = write_warc(tmp_path / "a.warc", _records(), gzip=compressed)
    last = [r.offset for r in read_records(path.open("rb"), max_block=1 << 20)][-1]
    cut = _cut(path, last + 120)
    events = list(WarcSource([str(cut)]).crawl())
    assert [e.url for e in events[:4]] == [
        "http://a.example/one",
        "http://a.example/logo.png",
        "http://a.example/gone",
        "http://a.example/moved",
    ]
    assert len(events) == 5
    tail = events[-1]
    assert isinstance(tail, Skipped) and tail.code is SkipCode.SOURCE
    assert tail.url == f"{cut}#{last}"
    assert tail.reason.startswith(f"{cut}#{last}: ") and "truncated" in tail.reason


def test_a_record_cut_anywhere_is_one_problem_that_says_truncated(tmp_path: Path) -> None:
    # Wherever the cut falls in the last gzip member (in its WARC header, its HTTP header or
    # its body), that record is told once, as cut short, and every record before it is read.
    path = write_warc(tmp_path / "a.warc", _records(), gzip=True)
    whole = list(read_records(path.open("rb"), max_block=1 << 20))
    last = whole[-1].offset
    size = path.stat().st_size
    for keep in range(last + 1, size):
        cut = tmp_path / "cut.warc.gz"
        cut.write_bytes(path.read_bytes()[:keep])
        got = list(read_records(cut.open("rb"), max_block=1 << 20))
        problems = [g for g in got if isinstance(g, RecordProblem)]
        records = [g for g in got if isinstance(g, WarcRecord)]
        assert len(problems) == 1 and problems[0].offset == last, (keep, problems)
        assert "truncated" in problems[0].reason, (keep, problems)
        # Only a cut in the gzip trailer (after the whole record) leaves the record readable.
        assert records == whole[:-1] or records == whole, keep


def test_a_corrupt_gzip_member_is_skipped_and_the_next_records_are_read(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", _records())
    offsets = [r.offset for r in read_records(path.open("rb"), max_block=1 << 20)]
    data = bytearray(path.read_bytes())
    broken = offsets[2]  # the image's response record
    data[broken + 20 : broken + 60] = b"\x00" * 40
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(bytes(data))
    events = list(WarcSource([str(bad)]).crawl())
    problems = [e for e in events if isinstance(e, Skipped) and e.code is SkipCode.SOURCE]
    assert [p.url for p in problems] == [f"{bad}#{broken}"]
    assert "does not inflate" in problems[0].reason
    pages = [e.url for e in events if isinstance(e, Fetched)]
    assert pages == ["http://a.example/one", "http://a.example/two"]


def test_garbage_in_a_plain_file_is_skipped_up_to_the_next_record(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc", _records(), gzip=False)
    offsets = [r.offset for r in read_records(path.open("rb"), max_block=1 << 20)]
    data = path.read_bytes()
    at = offsets[4]  # the 404's request record
    junk = data[:at] + b"this is not a record\r\nnor this\r\n" + data[at:]
    bad = tmp_path / "junk.warc"
    bad.write_bytes(junk)
    items = list(read_records(bad.open("rb"), max_block=1 << 20))
    problems = [i for i in items if isinstance(i, RecordProblem)]
    assert problems == [RecordProblem(at, "not a WARC record (starts with 'this is not a record')")]
    assert len([i for i in items if isinstance(i, WarcRecord)]) == 10


def test_bad_http_headers_a_huge_body_and_encodings(tmp_path: Path) -> None:
    body = gzip.compress(PAGE)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(PAGE), PAGE)
    path = write_warc(
        tmp_path / "odd.warc.gz",
        [
            (
                "http://a.example/gz",
                "200 OK",
                body,
                [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            ),
            (
                "http://a.example/chunked",
                "200 OK",
                chunked,
                [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
            ),
            ("http://a.example/huge", "200 OK", PAGE + b" " * 5000),
            ("http://a.example/bin", "200 OK", b"<html>\x00\x00\x00</html>"),
        ],
    )
    # A record whose HTTP header is broken: written by hand, since warcio would not.
    raw = b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\n\r\n" + PAGE
    block = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.example/broken\r\n"
        b"WARC-Record-ID: <urn:uuid:1>\r\nContent-Type: application/http; msgtype=response\r\n"
        b"Content-Length: %d\r\n\r\n%s\r\n\r\n" % (len(raw), raw)
    )
    with path.open("ab") as f:
        f.write(gzip.compress(block))
    events = list(WarcSource([str(path)], max_bytes=3000).crawl())
    summary = [(e.url, e.code.value if isinstance(e, Skipped) else "page") for e in events]
    assert summary == [
        ("http://a.example/gz", "page"),
        ("http://a.example/chunked", "page"),
        ("http://a.example/huge", "too_large"),
        ("http://a.example/bin", "not_html"),
        ("http://a.example/broken", "source"),
    ]
    assert [e.body for e in events[:2] if isinstance(e, Fetched)] == [PAGE, PAGE]
    assert "broken HTTP header" in events[4].reason  # type: ignore[union-attr]
    assert "larger than 3000 bytes" in events[2].reason  # type: ignore[union-attr]


def test_a_missing_file_is_one_skip(tmp_path: Path) -> None:
    missing = tmp_path / "nope.warc.gz"
    [event] = list(WarcSource([str(missing)]).crawl())
    assert isinstance(event, Skipped)
    assert event.reason == f"cannot read WARC {missing}: No such file or directory"


def _polite(url: str) -> Politeness:
    return Politeness(Fetcher(FetchConfig(allowed_hosts=named_addresses([url]))))


def test_a_warc_over_http_is_streamed_through_the_politeness_layer(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", _records())
    data = path.read_bytes()
    routes = {
        "/robots.txt": (
            200,
            {"Content-Type": "text/plain"},
            b"User-agent: *\nDisallow: /private/\n",
        ),
        "/crawl/a.warc.gz": (200, {"Content-Type": "application/gzip"}, data),
        "/private/a.warc.gz": (200, {"Content-Type": "application/gzip"}, data),
    }
    with Server(routes) as server:
        url = f"{server.base}/crawl/a.warc.gz"
        remote = list(WarcSource([url], _polite(url)).crawl())
        local = list(WarcSource([str(path)]).crawl())
        assert [(e.url, type(e).__name__) for e in remote] == [
            (e.url, type(e).__name__) for e in local
        ]
        first, here = remote[0], local[0]
        assert isinstance(first, WarcFetched) and isinstance(here, WarcFetched)
        assert first.record.split("#")[1] == here.record.split("#")[1]  # same offset and id
        assert first.record.startswith(f"{url}#")
        assert server.paths() == ["/robots.txt", "/crawl/a.warc.gz"]
        assert "xpostcheck" in server.log[-1][2]["User-Agent"]
        private = f"{server.base}/private/a.warc.gz"
        [refused] = list(WarcSource([private], _polite(private)).crawl())
        assert isinstance(refused, Skipped) and refused.code is SkipCode.ROBOTS
        missing = f"{server.base}/crawl/none.warc.gz"
        [gone] = list(WarcSource([missing], _polite(missing)).crawl())
        assert isinstance(gone, Skipped) and "HTTP 404" in gone.reason


def test_a_loopback_warc_not_named_is_refused_by_the_address_policy(tmp_path: Path) -> None:
    with Server({"/a.warc": (200, {}, b"")}) as server:
        url = f"{server.base}/a.warc"
        polite = Politeness(Fetcher(FetchConfig()))
        [refused] = list(WarcSource([url], polite).crawl())
        # robots.txt could not be asked (the address is not allowed), so nothing is.
        assert isinstance(refused, Skipped) and refused.code is SkipCode.ROBOTS
        assert server.paths() == []
