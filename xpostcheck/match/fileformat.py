"""The index file: one file, a JSON header and raw numpy arrays, in formats 1 to 4.

In: the retrieval arrays, the documents' byte blobs and the settings (to write); a path (to
read). Out: the file on disk, written atomically; or an IndexFile whose arrays are read-only
views of a memory map, so worker processes share it through the page cache and loading it
runs no code from the file. Format 1 files (blake2b token hashes) are still read and written.

Every file written now ends with a SHA-256 of all the bytes before it, and says so in its
header (`"checksum": "sha256"`); a file whose bytes disagree with it is `IndexDamaged`, never
read. Files written before the checksum still load, and earlier releases read the new files
(they ignore the header key and the bytes after the arrays): no format number changed.
Saves write `.<name>.<pid>.<random>.tmp` beside the file and rename it; `remove_stale_temps`
removes those left by a process that died mid-save.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import mmap
import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from xpostcheck.errors import ConfigError, XPostCheckError
from xpostcheck.match.arrays import I64, U8, U64
from xpostcheck.match.config import SHAPING, MatchConfig

__all__ = [
    "COMPRESSED",
    "FORMATS",
    "INDEX_FORMAT",
    "REBUILD",
    "IndexDamaged",
    "IndexFile",
    "IndexFileError",
    "IndexSaveError",
    "Stream",
    "read_index",
    "release_pages",
    "remove_stale_temps",
    "write_index",
]

log = logging.getLogger(__name__)

# Written by new indexes: format 3 is format 2 with content-word pairs among the postings
# (an earlier release would read it and mistake their count for shingles, so it must refuse
# it); format 2 files (no pairs) and format 1 files (blake2b token hashes) still load and are
# saved again in their own format.
# Format 4 is format 3 with each text compressed (zlib) and the postings' offsets in 32 bits
# when they fit (an index about half the size); a format 3 file loads and is saved as format 4.
INDEX_FORMAT = 4
FORMATS = (1, 2, 3, 4)
COMPRESSED = 4  # files of this format or later hold compressed texts
_DIGEST = 32  # bytes of the SHA-256 at the end of a checksummed file
_MAGIC = b"XPCINDEX"
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, format, reserved, header length
_ALIGN = 64
REBUILD = "delete the file so that the next scan rebuilds it"


class IndexFileError(XPostCheckError):
    """A saved index cannot be read: missing, corrupt, or written by another format."""


class IndexDamaged(IndexFileError):
    """The file is an xpostcheck index whose bytes are damaged (truncated, a checksum that
    disagrees, arrays that do not fit): a scan rebuilds it from its sources."""


class IndexSaveError(IndexFileError):
    """The index could not be written (a full disk, a read-only folder): exit 3."""

    exit_code = 3


_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove the temporary files of saves of `path` whose process is gone (killed mid-save);
    returns what was removed. A save in progress, in this or another live process, is left."""
    target = Path(path)
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        found = _TEMP.fullmatch(entry.name)
        if not found or found["name"] != target.name or _alive(int(found["pid"])):
            continue
        try:
            entry.unlink()
        except OSError:
            continue
        removed.append(entry)
        log.info("removed %s, left by an interrupted save of the index", entry)
    return removed


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
    """Write an index file atomically (a temporary file, then a rename), ending with the
    checksum of its bytes. ``arrays`` are written in their order; format 1 files also get the
    directory its readers search with. An OSError (a full disk) is an IndexSaveError naming
    the file, and leaves no temporary file."""
    target = Path(path)
    arrays = dict(arrays)
    header: dict[str, Any] = {
        "format": version,
        "config": asdict(config),
        "urls": urls,
        "df_limit": df_limit,
        "bitmap_shift": bitmap_shift,
        "checksum": "sha256",
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
    tmp = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:

            def put(data: bytes | memoryview) -> None:
                digest.update(data)
                out.write(data)

            put(_PREAMBLE.pack(_MAGIC, version, 0, len(body)))
            put(body)
            for array in arrays.values():
                if isinstance(array, Stream):
                    for piece in array.pieces():
                        put(piece)
                else:  # the array's own bytes, not a copy of them (the postings: 100 MB)
                    put(np.ascontiguousarray(array).data.cast("B"))
                put(b"\0" * (-array.nbytes % _ALIGN))
            out.write(digest.digest())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise IndexSaveError(
            f"cannot save the index ({exc.strerror or exc}); free some space or make the "
            "folder writable (or choose another --index), then run the scan again",
            where=str(target),
        ) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise


def read_index(path: str | Path, config: MatchConfig | None = None) -> IndexFile:
    """Read an index file written by :func:`write_index`. When ``config`` is given, the settings
    that shape the saved arrays must equal the file's; any problem raises IndexFileError, and
    IndexDamaged when the file is an index whose bytes are damaged (its checksum disagrees,
    its header or arrays do not read)."""
    where = str(path)
    rebuild = REBUILD
    try:
        with open(path, "rb") as handle:
            preamble = handle.read(_PREAMBLE.size)
            if len(preamble) < _PREAMBLE.size:
                if _MAGIC.startswith(preamble[: len(_MAGIC)]):
                    raise IndexDamaged(f"the index is damaged (cut short); {rebuild}", where=where)
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
            if not isinstance(header, dict):
                raise ValueError("the header is not an object")
            # The map, the size and the checksum are all of this one open file (a save may
            # rename another into place meanwhile).
            size = os.fstat(handle.fileno()).st_size
            mapped = np.memmap(handle, dtype=np.uint8, mode="r")
            end = size  # where the arrays must end: before the checksum, when it has one
            if header.get("checksum") == "sha256":
                end = size - _DIGEST
                if end < _PREAMBLE.size + header_len or not _checksum_ok(handle, end):
                    raise IndexDamaged(
                        "the index is damaged (its checksum does not match its contents);"
                        f" {rebuild}",
                        where=where,
                    )
    except FileNotFoundError:
        raise IndexFileError("no index file here; build one with a scan", where=where) from None
    except OSError as exc:
        raise IndexFileError(
            f"cannot read the index ({exc.strerror or exc}); check its permissions", where=where
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError too
        raise IndexDamaged(f"cannot read the index ({exc}); {rebuild}", where=where) from None
    try:
        names = {f.name for f in fields(MatchConfig)}
        # A file written before content-word pairs were kept holds none of them.
        settings = {"pair_modulus": 0, **header["config"]}
        saved = MatchConfig(**{k: v for k, v in settings.items() if k in names})
        arrays: dict[str, Any] = {}
        for name, (dtype, shape, offset) in header["arrays"].items():
            kind = np.dtype(dtype)
            if kind.hasobject:
                raise ValueError(f"array {name} holds objects")
            count = int(np.prod(shape)) if shape else 1
            stop = offset + count * kind.itemsize
            if offset % _ALIGN or stop > end:
                raise ValueError(f"array {name} lies outside the file")
            arrays[name] = mapped[offset:stop].view(kind).reshape(shape)
        urls = [str(u) for u in header["urls"]]
        n = len(urls)
        ok = (
            arrays["offsets"].size == arrays["keys"].size + 1
            and arrays["text_offsets"].size == n + 1
            and arrays["meta_offsets"].size == n + 1
            and arrays["effective"].size == n
            and arrays["ntokens"].size == n
            and arrays["nsamples"].size == n
            and arrays["offsets"].dtype.kind in "iu"
            and int(arrays["offsets"][-1]) == arrays["postings"].size
            and (n == 0 or int(arrays["postings"].max(initial=0)) < n)
        )
        if not ok:
            raise ValueError("array sizes disagree")
        release_pages(arrays["postings"])  # read whole by the check above
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
        raise IndexDamaged(f"the index is damaged ({exc}); {rebuild}", where=where) from None
    if config is not None:
        for name in SHAPING:
            if getattr(config, name) != getattr(saved, name):
                raise IndexFileError(
                    f"the index was built with {name}={getattr(saved, name)}, not"
                    f" {getattr(config, name)}; {rebuild}",
                    where=where,
                )
    return IndexFile(version, saved, urls, df_limit, arrays, bitmap)


def release_pages(array: npt.NDArray[Any]) -> None:
    """Let the pages of a memory-mapped array that were read leave the process's resident
    memory (the whole pages inside it; nothing for an array that is not mapped from a file).

    The map is read-only and shared, so this loses nothing: a page read again comes back
    from the file (or the system's cache of it). A merge that read every posting of a
    loaded index, or the check of the postings at load, would otherwise leave the whole
    inverted index counted twice in the process, once in the file's pages and once in the
    merged arrays."""
    root: Any = array
    while root is not None and not isinstance(root.base, mmap.mmap):
        root = root.base
    if root is None or not isinstance(root, np.memmap) or not array.size:
        return
    mapped: Any = root.base  # the mmap.mmap itself
    start = root.__array_interface__["data"][0] - root.offset % mmap.ALLOCATIONGRANULARITY
    first = array.__array_interface__["data"][0] - start
    last = first + array.nbytes
    first = -(-first // mmap.PAGESIZE) * mmap.PAGESIZE
    last = last // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first and hasattr(mapped, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED, first, last - first)


def _checksum_ok(handle: BinaryIO, end: int) -> bool:
    """Whether the SHA-256 of the file's first `end` bytes is the one that follows them.

    Read with plain reads, not through the memory map: pages touched through a map count in
    the process's resident memory, and the checksum touches every page of the file."""
    digest = hashlib.sha256()
    handle.seek(0)
    left = end
    while left > 0:
        chunk = handle.read(min(1 << 20, left))
        if not chunk:
            return False
        digest.update(chunk)
        left -= len(chunk)
    return digest.digest() == handle.read(_DIGEST)
