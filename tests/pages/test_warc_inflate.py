"""The WARC reader inflates with ISA-L when it is installed: it reads every file, whole, cut
short anywhere or with a corrupt member, exactly as with zlib (records, offsets, problems)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from warcfix import write_warc

from xpostcheck.pages import warcread
from xpostcheck.pages.warcread import RecordProblem, WarcRecord, read_records

PAGE = b"<!doctype html><html><body><p>A page about the harbor, %d.</p>%s</body></html>"


def _read(path: Path) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    with path.open("rb") as f:
        for item in read_records(f, max_block=1 << 20):
            if isinstance(item, WarcRecord):
                out.append((item.offset, item.headers, item.block, item.complete, item.seekable))
            else:
                assert isinstance(item, RecordProblem)
                out.append((item.offset, item.reason.split(" (")[0]))
    return out


def test_isal_reads_like_zlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if warcread._ZLIB is zlib:
        pytest.fail("isal is a dependency of xpostcheck: pip install -e '.[test]'")
    filler = bytes(range(256)) * 40  # bytes that do not compress, over the 64 KiB read chunks
    records = [(f"http://a.example/{n}", "200 OK", PAGE % (n, filler * (n % 3))) for n in range(6)]
    whole = write_warc(tmp_path / "a.warc", records, gzip=True).read_bytes()
    corrupt = bytearray(whole)
    corrupt[len(whole) // 2 : len(whole) // 2 + 40] = b"\x00" * 40
    files = {"whole": whole, "corrupt": bytes(corrupt)}
    for keep in range(1, len(whole), max(1, len(whole) // 60)):
        files[f"cut at {keep}"] = whole[:keep]
    for name, data in files.items():
        path = tmp_path / "f.warc.gz"
        path.write_bytes(data)
        with_isal = _read(path)
        monkeypatch.setattr(warcread, "_ZLIB", zlib)
        with_zlib = _read(path)
        monkeypatch.undo()
        assert with_isal == with_zlib, name
    assert len(_read(tmp_path / "a.warc")) == 12  # a request record before each response
