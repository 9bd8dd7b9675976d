"""The index's document store: each source article under a document id, by url.

In: SourceArticle records (added in memory) and the text and field blobs of a loaded index
file. Out: articles by url or id, texts by id, and the bytes of each document for saving.

Document ids only grow: replacing an article (same url, other content) gives it a new id and
leaves the old id dead, so the retrieval arrays stay valid until they are merged again.
"""

from __future__ import annotations

import json
import mmap
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from xpostcheck.match.arrays import I64, U8
from xpostcheck.models import SourceArticle

__all__ = ["Blob", "Documents"]

_LEVEL = 4  # zlib level of stored texts: as fast as level 1 on these texts, 6% smaller
_MAP_BYTES = 64 << 20  # bytes of one anonymous map of the arena


class Arena:
    """Byte strings appended end to end in anonymous memory maps of 64 MB, each string
    numbered in order.

    Not one Python bytes object per string: 100,000 articles' texts freed from the C heap
    stay counted in the process's memory (the heap is fragmented and shrinks only from its
    top), while a map freed is given back to the system at once. Pages of a map that no
    string reached yet are not resident.
    """

    def __init__(self) -> None:
        self._maps: list[mmap.mmap] = []
        self._used = 0  # bytes used in the last map
        self._where = array("q")  # per string: map, start, end

    def __len__(self) -> int:
        return len(self._where) // 3

    def append(self, data: bytes) -> int:
        """Store ``data``; returns its number."""
        if not self._maps or self._used + len(data) > len(self._maps[-1]):
            self._maps.append(mmap.mmap(-1, max(_MAP_BYTES, len(data))))
            self._used = 0
        start, self._used = self._used, self._used + len(data)
        self._maps[-1][start : self._used] = data
        self._where.extend((len(self._maps) - 1, start, self._used))
        return len(self) - 1

    def __getitem__(self, i: int) -> bytes:
        at, start, end = self._where[3 * i : 3 * i + 3]
        return self._maps[at][start:end]

    def __getstate__(self) -> dict[str, object]:  # maps do not pickle: their bytes do
        return {"pieces": [self[i] for i in range(len(self))]}

    def __setstate__(self, state: dict[str, list[bytes]]) -> None:
        self._maps, self._used, self._where = [], 0, array("q")
        for piece in state["pieces"]:
            self.append(piece)


@dataclass
class Blob:
    """Byte strings stored end to end, read lazily from a memory map."""

    data: U8
    offsets: I64
    compressed: bool = False  # each string zlib-compressed (texts of format 4 files)

    def get(self, i: int) -> str:
        data = bytes(self.data[self.offsets[i] : self.offsets[i + 1]])
        return (zlib.decompress(data) if self.compressed else data).decode("utf-8")

    def get_bytes(self, i: int) -> bytes:
        return bytes(self.data[self.offsets[i] : self.offsets[i + 1]])


def _meta(article: SourceArticle) -> dict[str, Any]:
    data = asdict(article)
    del data["url"], data["text"]
    return data


def _article(url: str, text: str, meta: dict[str, Any]) -> SourceArticle:
    return SourceArticle(
        url=url,
        title=str(meta.get("title", "")),
        text=text,
        authors=tuple(meta.get("authors", ())),
        published=meta.get("published"),
        publisher=str(meta.get("publisher", "")),
        images=tuple(meta.get("images", ())),
        html=meta.get("html"),
    )


class Documents:
    """Articles by document id: those of a loaded file (read from its blobs when asked for)
    and those added since (held in memory as a saved file holds them: each text compressed
    on its own, the other fields as JSON, in an :class:`Arena`, so that 100,000 articles
    do not stay Python strings, nor bytes objects in the C heap)."""

    def __init__(self) -> None:
        self._urls: list[str] = []  # doc id -> url (dead docs keep theirs)
        self._doc_of: dict[str, int] = {}  # url -> live doc id
        # docs not in the loaded file: their compressed UTF-8 text and other fields as
        # JSON, numbers 2k and 2k + 1 in the arena
        self._added: dict[int, int] = {}  # doc -> k
        self._arena = Arena()
        self._base_text: Blob | None = None  # docs of the loaded file
        self._base_meta: Blob | None = None

    @classmethod
    def from_file(cls, urls: list[str], text: Blob, meta: Blob) -> Documents:
        """The documents of a loaded file, ids 0 .. len(urls) - 1 (a repeated url keeps its
        last id: the caller compares ``len()`` with ``len(urls)``)."""
        documents = cls()
        documents._urls = urls
        documents._doc_of = {u: i for i, u in enumerate(urls)}
        documents._base_text = text
        documents._base_meta = meta
        return documents

    def __len__(self) -> int:
        return len(self._doc_of)

    def __contains__(self, url: object) -> bool:
        return url in self._doc_of

    def url(self, doc: int) -> str:
        return self._urls[doc]

    def text(self, doc: int) -> str:
        added = self._added.get(doc)
        if added is not None:
            return zlib.decompress(self._arena[2 * added]).decode("utf-8")
        assert self._base_text is not None
        return self._base_text.get(doc)

    def article(self, doc: int) -> SourceArticle:
        added = self._added.get(doc)
        if added is not None:
            return _article(self._urls[doc], self.text(doc), json.loads(self._arena[2 * added + 1]))
        assert self._base_text is not None and self._base_meta is not None
        meta = json.loads(self._base_meta.get(doc))
        return _article(self._urls[doc], self._base_text.get(doc), meta)

    def get(self, url: str) -> SourceArticle | None:
        doc = self._doc_of.get(url)
        return None if doc is None else self.article(doc)

    def live(self) -> list[int]:
        """Ids of the live documents, ascending (the order of a saved file)."""
        return sorted(self._doc_of.values())

    def articles(self) -> Iterator[SourceArticle]:
        for doc in self.live():
            yield self.article(doc)

    def put(self, article: SourceArticle) -> tuple[int, int | None] | None:
        """Store an article under a new id: (new id, id it replaces or None), or None when the
        same article is already stored."""
        old = self._doc_of.get(article.url)
        if old is not None:
            if self.article(old) == article:
                return None
            self._added.pop(old, None)
        doc = len(self._urls)
        self._urls.append(article.url)
        self._doc_of[article.url] = doc
        number = self._arena.append(zlib.compress(article.text.encode("utf-8"), _LEVEL))
        self._arena.append(json.dumps(_meta(article), ensure_ascii=False).encode("utf-8"))
        self._added[doc] = number // 2
        return doc, old

    def piece(self, doc: int, *, text: bool, compress: bool = False) -> bytes:
        """A document's text, or its other fields as JSON, as saved in an index file; a text
        zlib-compressed when ``compress`` (format 4)."""
        added = self._added.get(doc)
        if added is not None:
            if not text:
                return self._arena[2 * added + 1]
            stored = self._arena[2 * added]
            return stored if compress else zlib.decompress(stored)
        base = self._base_text if text else self._base_meta
        assert base is not None
        stored = base.get_bytes(doc)
        if not text or base.compressed == compress:
            return stored
        if compress:
            return zlib.compress(stored, _LEVEL)
        return zlib.decompress(stored)
