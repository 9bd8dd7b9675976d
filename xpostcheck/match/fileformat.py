"""The index file: one file, a JSON header and raw numpy arrays, in format 2 or format 1.

In: the retrieval arrays, the documents' byte blobs and the settings (to write); a path (to
read). Out: the file on disk, written atomically; or an IndexFile whose arrays are read-only
views of a memory map, so worker processes share it through the page cache and loading it
runs no code from the file. Format 1 files (blake2b token hashes) are still read and written.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from xpostcheck.errors import ConfigError, XPostCheckError
from xpostcheck.match.arrays import I64, U8, U64
from xpostcheck.match.config import SHAPING, MatchConfig

__all__ = [
    "FORMATS",
    "INDEX_FORMAT",
    "REBUILD",
    "IndexFile",
    "IndexFileError",
    "Stream",
    "read_index",
    "write_index",
]

INDEX_FORMAT = 2  # written by new indexes; format 1 files (blake2b token hashes) still load
FORMATS = (1, 2)
_MAGIC = b"XPCINDEX"
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, format, reserved, header length
_ALIGN = 64
REBUILD = "delete the file so that the next scan rebuilds it"


class IndexFileError(XPostCheckError):
    """A saved index cannot be read: missing, corrupt, or written by another format."""


def _directory(keys: U64) -> tuple[I64, int, int]:
    """Where each value of the top bits of a hash starts among the keys, with the shift
    that gives those bits and the steps of a binary search inside one: the lookup
    structure of format 1 files, written for the readers of that format."""
    n = keys.size
    bits = max(4, min(24, math.ceil(math.log2(max(n, 1) / 4 + 1))))
    shift = 64 - bits
    bounds = np.arange(1 << bits, dtype=np.uint64) << np.uint64(shift)
    directory = np.append(np.searchsorted(keys, bounds), n).astype(np.int64)
    widest = int(np.diff(directory).max()) if n else 0
    return directory, shift, max(1, math.ceil(math.log2(widest + 1)) + 1)


@dataclass
class Stream:
    """A byte blob written in pieces, so that saving does not hold every text twice."""

    offsets: I64
    pieces: Callable[[], Iterator[bytes]]
    dtype: np.dtype[np.uint8] = np.dtype(np.uint8)

    @property
    def nbytes(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int]:
        return (self.nbytes,)

    @classmethod
    def of(cls, docs: list[int], piece: Callable[[int], bytes]) -> Stream:
        """The pieces of these documents, end to end (each piece is asked for twice)."""
        lengths = np.fromiter((len(piece(d)) for d in docs), dtype=np.int64, count=len(docs))
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(offsets, lambda: map(piece, docs))


@dataclass(frozen=True)
class IndexFile:
    """What a saved index holds: its format, settings, urls (document i is urls[i]), stock-
    phrase limit, arrays by name, and the presence bitmap with its shift (None in files
    written before the bitmap was saved)."""

    version: int
    config: MatchConfig
    urls: list[str]
    df_limit: int
    arrays: dict[str, Any]
    bitmap: tuple[U8, int] | None


def write_index(
    path: str | Path,
    *,
    version: int,
    config: MatchConfig,
    urls: list[str],
    df_limit: int,
    bitmap_shift: int,
    arrays: dict[str, npt.NDArray[Any] | Stream],
) -> None:
    """Write an index file atomically (a temporary file, then a rename). ``arrays`` are
    written in their order; format 1 files also get the directory its readers search with."""
    target = Path(path)
    arrays = dict(arrays)
    header: dict[str, Any] = {
        "format": version,
        "config": asdict(config),
        "urls": urls,
        "df_limit": df_limit,
        "bitmap_shift": bitmap_shift,
        "arrays": {},
    }
    if version == 1:  # what readers of format 1 search with
        keys = arrays["keys"]
        assert not isinstance(keys, Stream)
        arrays["directory"], header["dir_shift"], header["dir_steps"] = _directory(keys)
    # Array offsets depend on the header length, which depends on the offsets: reserve room.
    layout: dict[str, list[Any]] = {}
    position = 0
    for name, array in arrays.items():
        layout[name] = [array.dtype.str, list(array.shape), position]
        position += -(-array.nbytes // _ALIGN) * _ALIGN
    header["arrays"] = layout
    body = json.dumps(header, ensure_ascii=False).encode("utf-8")
    start = -(-(_PREAMBLE.size + len(body) + 32) // _ALIGN) * _ALIGN
    for entry in layout.values():
        entry[2] += start
    body = json.dumps(header, ensure_ascii=False).encode("utf-8")
    body += b" " * (start - _PREAMBLE.size - len(body))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_PREAMBLE.pack(_MAGIC, version, 0, len(body)))
            out.write(body)
            for array in arrays.values():
                if isinstance(array, Stream):
                    for piece in array.pieces():
                        out.write(piece)
                else:
                    out.write(np.ascontiguousarray(array).tobytes())
                out.write(b"\0" * (-array.nbytes % _ALIGN))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_index(path: str | Path, config: MatchConfig | None = None) -> IndexFile:
    """Read an index file written by :func:`write_index`. When ``config`` is given, the settings
    that shape the saved arrays must equal the file's; any problem raises IndexFileError."""
    where = str(path)
    rebuild = REBUILD
    try:
        with open(path, "rb") as handle:
            preamble = handle.read(_PREAMBLE.size)
            if len(preamble) < _PREAMBLE.size:
                raise IndexFileError(f"not an xpostcheck index (too short); {rebuild}", where=where)
            magic, version, _, header_len = _PREAMBLE.unpack(preamble)
            if magic != _MAGIC:
                raise IndexFileError(f"not an xpostcheck index; {rebuild}", where=where)
            if version not in FORMATS:
                raise IndexFileError(
                    f"index format {version} is not one of the supported formats"
                    f" {', '.join(map(str, FORMATS))}; {rebuild}",
                    where=where,
                )
            header = json.loads(handle.read(header_len).decode("utf-8"))
        size = os.path.getsize(path)
        mapped = np.memmap(path, dtype=np.uint8, mode="r") if size else None
    except FileNotFoundError:
        raise IndexFileError("no index file here; build one with a scan", where=where) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFileError(f"cannot read the index ({exc}); {rebuild}", where=where) from None
    try:
        names = {f.name for f in fields(MatchConfig)}
        saved = MatchConfig(**{k: v for k, v in header["config"].items() if k in names})
        arrays: dict[str, Any] = {}
        assert mapped is not None
        for name, (dtype, shape, offset) in header["arrays"].items():
            kind = np.dtype(dtype)
            if kind.hasobject:
                raise ValueError(f"array {name} holds objects")
            count = int(np.prod(shape)) if shape else 1
            end = offset + count * kind.itemsize
            if offset % _ALIGN or end > size:
                raise ValueError(f"array {name} lies outside the file")
            arrays[name] = mapped[offset:end].view(kind).reshape(shape)
        urls = [str(u) for u in header["urls"]]
        n = len(urls)
        ok = (
            arrays["offsets"].size == arrays["keys"].size + 1
            and arrays["text_offsets"].size == n + 1
            and arrays["meta_offsets"].size == n + 1
            and arrays["effective"].size == n
            and arrays["ntokens"].size == n
            and arrays["nsamples"].size == n
            and int(arrays["offsets"][-1]) == arrays["postings"].size
            and (n == 0 or int(arrays["postings"].max(initial=0)) < n)
        )
        if not ok:
            raise ValueError("array sizes disagree")
        df_limit = int(header["df_limit"])
        bitmap: tuple[npt.NDArray[np.uint8], int] | None = None
        if "bitmap" in arrays:
            bitmap_shift = int(header["bitmap_shift"])
            if not 0 < bitmap_shift <= 61 or arrays["bitmap"].size != 1 << (61 - bitmap_shift):
                raise ValueError("the bitmap does not fit its shift")
            if arrays["bitmap"].dtype != np.uint8:
                raise ValueError("the bitmap is not of bytes")
            bitmap = (arrays["bitmap"], bitmap_shift)
    except (KeyError, TypeError, ValueError, AssertionError, ConfigError) as exc:
        raise IndexFileError(f"the index is damaged ({exc}); {rebuild}", where=where) from None
    if config is not None:
        for name in SHAPING:
            if getattr(config, name) != getattr(saved, name):
                raise IndexFileError(
                    f"the index was built with {name}={getattr(saved, name)}, not"
                    f" {getattr(config, name)}; {rebuild}",
                    where=where,
                )
    return IndexFile(version, saved, urls, df_limit, arrays, bitmap)
