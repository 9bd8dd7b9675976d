"""WARC records from a byte stream: plain, gzipped per record (as Common Crawl writes them) or
gzipped whole, read in bounded memory.

In: a binary stream (a file, or an HTTP body being downloaded) and a cap on the bytes of one
record's block kept in memory. Out: `WarcRecord`s (the WARC headers, the block up to the cap,
the offset of the record in the file) and `RecordProblem`s (the offset and what is wrong) in
file order. Nothing here raises for bad input: a record without a `WARC/` line, with a broken
header, cut short by the end of the file, or a gzip member that does not inflate is told as a
problem, and reading goes on at the next record (the next gzip member, or the next `WARC/1.x`
line of a plain file). A block over the cap is skipped over without being held in memory.

Offsets are those Common Crawl's indexes give: the start of the record's gzip member in a
gzipped file, the start of its `WARC/` line in a plain one.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from xpostcheck.models import header


def _inflate_module() -> types.ModuleType:
    """ISA-L's zlib module when it is installed (a dependency: it inflates to the same bytes
    in about half the CPU time, the largest cost of reading a record), else zlib."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # pragma: no cover - installed with the package
        return zlib


_ZLIB = _inflate_module()
_ZLIB_ERRORS: tuple[type[Exception], ...] = (zlib.error, _ZLIB.error)

__all__ = ["Readable", "RecordProblem", "WarcRecord", "read_records"]

_CHUNK = 1 << 16
_MAX_HEADER = 1 << 16  # bytes of WARC header per record before it is refused
_GZIP_MAGIC = b"\x1f\x8b\x08"
_CUT = "the gzip member is cut short (truncated file)"


class Readable(Protocol):
    """What records are read from: a binary file, or a download's body."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class WarcRecord:
    offset: int
    headers: tuple[tuple[str, str], ...]
    block: bytes  # the content block (at most the cap; `complete` is False when cut)
    length: int  # Content-Length as declared
    complete: bool = True
    # Reading the file again from `offset` gives this record first (False for the second and
    # later records of one gzip member: a file gzipped whole).
    seekable: bool = True

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def type(self) -> str:
        return (self.header("WARC-Type") or "").strip().lower()


@dataclass(frozen=True)
class RecordProblem:
    offset: int
    reason: str


class _Bytes:
    """The decompressed bytes of the stream, with the offset (in the file) of the place where
    the next record starts: the current gzip member's start, or the plain byte position."""

    def __init__(self, raw: Readable) -> None:
        self.raw = raw
        self.buf = bytearray()
        self.pos = 0  # read position in buf
        self.gzip: bool | None = None  # decided on the first bytes
        self.inflater: Any = None  # a decompressobj of `_ZLIB`
        self.pending = b""  # compressed bytes not fed yet
        self.consumed = 0  # compressed (file) bytes fed to the inflater or read plain
        self.member_start = 0
        self.plain_offset = 0  # file offset of buf[0] in a plain file
        self.raw_eof = False
        self.problem: tuple[int, str] | None = None  # a gzip error since the caller last asked

    # -- input --------------------------------------------------------------------------------

    def _read_raw(self) -> bytes:
        if self.raw_eof:
            return b""
        data = self.raw.read(_CHUNK)
        if not data:
            self.raw_eof = True
        return data or b""

    def _fill(self) -> bool:
        """Add decompressed bytes to buf; False at the end of the input."""
        if self.gzip is None:
            first = self._read_raw()
            while len(first) < 3 and not self.raw_eof:
                first += self._read_raw()
            self.gzip = first.startswith(_GZIP_MAGIC)
            if not self.gzip:
                self.buf += first
                return bool(first)
            self.pending = first
        if not self.gzip:
            data = self._read_raw()
            self.buf += data
            return bool(data)
        return self._inflate()

    def _inflate(self) -> bool:
        while True:
            if not self.pending:
                self.pending = self._read_raw()
                if not self.pending:
                    if self.inflater is not None and not self.inflater.eof:
                        self.problem = (self.member_start, _CUT)
                        self.inflater = None
                    return False
            if self.inflater is None:
                if not self.pending.startswith(_GZIP_MAGIC[: len(self.pending)]):
                    self.problem = self.problem or (
                        self.consumed,
                        "bytes that are not gzip between gzip members",
                    )
                    self._resync()
                    continue
                self.inflater = _ZLIB.decompressobj(wbits=31)
                self.member_start = self.consumed
            out = self._step()
            if out:
                self.buf += out
                return True

    def _step(self) -> bytes:
        """One inflate step of the open member over the pending bytes (a broken member is
        dropped, and the bytes up to the next gzip header with it)."""
        assert self.inflater is not None
        data, self.pending = self.pending, b""
        try:
            out: bytes = self.inflater.decompress(data, _CHUNK * 4)
        except _ZLIB_ERRORS as exc:
            self.pending = data
            self.inflater = None
            self.problem = self.problem or (
                self.member_start,
                f"a gzip member does not inflate ({exc})",
            )
            self._resync(skip=1)
            return b""
        rest = self.inflater.unconsumed_tail or self.inflater.unused_data
        self.consumed += len(data) - len(rest)
        if self.inflater.eof:
            self.pending = self.inflater.unused_data
            self.inflater = None
        else:
            self.pending = self.inflater.unconsumed_tail
        return out

    def _resync(self, skip: int = 0) -> None:
        """Drop compressed bytes up to the next gzip header (the next record's member)."""
        while True:
            at = self.pending.find(_GZIP_MAGIC, skip)
            if at >= 0:
                self.consumed += at
                self.pending = self.pending[at:]
                return
            keep = min(len(self.pending), len(_GZIP_MAGIC) - 1)
            self.consumed += len(self.pending) - keep
            more = self._read_raw()
            if not more:
                self.consumed += keep
                self.pending = b""
                return
            self.pending = self.pending[len(self.pending) - keep :] + more
            skip = 0

    # -- reading --------------------------------------------------------------------------------

    def _compact(self) -> None:
        if self.pos > _CHUNK * 4:
            del self.buf[: self.pos]
            self.plain_offset += self.pos
            self.pos = 0

    def offset(self) -> int:
        """The file offset of the next unread byte's record (see the module docstring)."""
        if self.gzip:
            return self.member_start
        return self.plain_offset + self.pos

    def at_member_start(self) -> bool:
        return bool(self.gzip) and self.inflater is None

    def peek(self) -> bool:
        """Make sure a byte is buffered; False at the end of the input."""
        self._compact()
        while self.pos >= len(self.buf):
            if self.pos:
                del self.buf[: self.pos]
                self.plain_offset += self.pos
                self.pos = 0
            if not self._fill():
                return False
        return True

    def readline(self, limit: int) -> bytes | None:
        """One line (with its newline) of at most `limit` bytes; None when longer."""
        while True:
            end = self.buf.find(b"\n", self.pos, self.pos + limit)
            if end >= 0:
                line = bytes(self.buf[self.pos : end + 1])
                self.pos = end + 1
                return line
            if len(self.buf) - self.pos >= limit:
                return None
            if not self._fill():
                line = bytes(self.buf[self.pos :])
                self.pos = len(self.buf)
                return line

    def read(self, n: int, keep: int) -> tuple[bytes, int]:
        """Read n bytes, keeping the first `keep` of them: (kept bytes, bytes read)."""
        kept: list[bytes] = []
        got = 0
        while got < n:
            if self.pos >= len(self.buf):
                self._compact()
                if not self.peek():
                    break
            take = min(n - got, len(self.buf) - self.pos)
            if got < keep:
                kept.append(bytes(self.buf[self.pos : self.pos + min(take, keep - got)]))
            self.pos += take
            got += take
        return b"".join(kept), got

    def skip_member(self) -> None:
        """Drop what is left of the current gzip member (a bad record inside it)."""
        self.pos = len(self.buf)
        while self.inflater is not None:
            if not self.pending:
                self.pending = self._read_raw()
                if not self.pending:
                    self.problem = self.problem or (self.member_start, _CUT)
                    self.inflater = None
                    return
            self._step()


def _skip_to_warc_line(data: _Bytes) -> None:
    """In a plain file, go on to the next line that starts a record."""
    while True:
        start = data.pos
        line = data.readline(_MAX_HEADER)
        if line is None:
            data.pos = len(data.buf)
            if not data.peek():
                return
            continue
        if not line:
            return
        if line.startswith(b"WARC/1."):
            data.pos = start
            return


def read_records(raw: Readable, *, max_block: int) -> Iterator[WarcRecord | RecordProblem]:
    """The records of a WARC stream, and the problems met on the way (see the module doc)."""
    data = _Bytes(raw)
    last_offset = -1
    while True:
        # Blank lines end the previous record; skip them before looking for the next.
        while data.peek() and data.buf[data.pos] in (0x0D, 0x0A):
            data.pos += 1
        if data.problem:
            yield RecordProblem(*data.problem)
            data.problem = None
        if not data.peek():
            if data.problem:
                yield RecordProblem(*data.problem)
            return
        offset = data.offset()
        member = data.gzip
        item = _one_record(data, offset, max_block)
        if isinstance(item, WarcRecord) and member and offset == last_offset:
            item = dataclasses.replace(item, seekable=False)
        last_offset = offset
        if isinstance(item, RecordProblem) and data.problem and data.problem[0] == offset:
            # The gzip member of this record is cut short: one problem, said once. A header
            # line cut in the middle reads as a bad one, but the cut is what happened.
            if "truncated" not in item.reason:
                item = RecordProblem(offset, "the file ends inside the record's header (truncated)")
            data.problem = None
        elif isinstance(item, RecordProblem) and "truncated" in item.reason:
            data.problem = None  # the cut member is this record: said once
        yield item
        if isinstance(item, RecordProblem) and item.reason.startswith("not a WARC record"):
            if member:
                data.skip_member()
            else:
                _skip_to_warc_line(data)


def _one_record(data: _Bytes, offset: int, max_block: int) -> WarcRecord | RecordProblem:
    first = data.readline(_MAX_HEADER)
    if first is None or not first.startswith(b"WARC/"):
        shown = (first or b"")[:40].decode("latin-1").strip()
        return RecordProblem(offset, f"not a WARC record (starts with {shown!r})")
    headers: list[tuple[str, str]] = []
    size = len(first)
    while True:
        line = data.readline(_MAX_HEADER)
        if line is None or size > _MAX_HEADER:
            return RecordProblem(offset, "not a WARC record (its header is over 64 KiB)")
        size += len(line)
        if not line:
            return RecordProblem(offset, "the file ends inside the record's header (truncated)")
        if line in (b"\r\n", b"\n"):
            break
        name, colon, value = line.decode("utf-8", "replace").partition(":")
        if not colon:
            if headers and line[:1] in (b" ", b"\t"):  # a folded header line
                headers[-1] = (headers[-1][0], headers[-1][1] + " " + name.strip())
                continue
            return RecordProblem(offset, f"not a WARC record (bad header line {name.strip()!r})")
        headers.append((name.strip(), value.strip()))
    raw_length = header(tuple(headers), "Content-Length") or ""
    if not raw_length.strip().isdigit():
        return RecordProblem(
            offset, f"not a WARC record (Content-Length {raw_length.strip()!r} is not a number)"
        )
    length = int(raw_length)
    block, got = data.read(length, max_block)
    if got < length:
        return RecordProblem(
            offset, f"the file ends inside the record ({got} of {length} bytes; truncated)"
        )
    return WarcRecord(offset, tuple(headers), block, length, complete=length <= max_block)
