"""Find whole, partial and edited copies of source articles in a page's text.

In: SourceArticle records (``add``) and a page's full visible text (``match``). Out: Match
records (source url, coverage, kind, passages), best first; the index saved to one file.

SourceIndex composes the three parts of docs/matching.md: the document store
(:mod:`xpostcheck.match.documents`), retrieval of candidate sources by sampled shingles
(:mod:`xpostcheck.match.retrieval`), and the alignment of each candidate with the page
(:mod:`xpostcheck.match.align`); :mod:`xpostcheck.match.fileformat` reads and writes the file.

A match is a copy when coverage >= ``min_coverage`` and it spans >= ``min_words`` source
tokens (or the whole source is there, for sources shorter than that).
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from xpostcheck.match.align import (
    Alignment,
    Prepared,
    align,
    align_spans,
    matched_tokens,
    passages,
    prepare,
)
from xpostcheck.match.arrays import I64, U8, U32, U64
from xpostcheck.match.config import MatchConfig
from xpostcheck.match.documents import Blob, Documents
from xpostcheck.match.evidence import is_copy
from xpostcheck.match.fileformat import (
    COMPRESSED,
    INDEX_FORMAT,
    REBUILD,
    IndexDamaged,
    IndexFileError,
    IndexSaveError,
    Stream,
    read_index,
    remove_stale_temps,
    write_index,
)
from xpostcheck.match.retrieval import Retrieval, page_keys
from xpostcheck.models import Match, SourceArticle

__all__ = [
    "INDEX_FORMAT",
    "Alignment",
    "IndexDamaged",
    "IndexFileError",
    "IndexSaveError",
    "MatchConfig",
    "SourceIndex",
    "align",
]

_PREPARED_LIMIT = 256  # sources whose tokens are kept between pages

log = logging.getLogger(__name__)

# What identifies one version of a file on disk: a save renames a new file into place.
_Stamp = tuple[int, int, int, int]


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextmanager
def _folder_locked(path: Path) -> Iterator[None]:
    """One save at a time into a folder: an OS lock on the folder itself (released by the
    kernel if the process dies), so that a save leaves no file of its own beside the index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class SourceIndex:
    """The publisher's articles, indexed for finding copies of them in pages.

    ``match`` may be called from several threads; ``add`` and ``save`` from one at a time.
    """

    def __init__(self, config: MatchConfig | None = None) -> None:
        self.config = config or MatchConfig()
        self._documents = Documents()
        self._retrieval = Retrieval(self.config)
        # Token hashes: vectorised (format 2), or blake2b per distinct word with this cache
        # for an index read from a format 1 file (its saved shingles were made with those).
        self._hash_cache: dict[str, int] | None = None
        self._prepared_cache: dict[int, Prepared] = {}  # doc -> tokens, least recent first
        # The file this index was loaded from or last saved to, as it was then: a save over
        # a file that changed since merges the articles the file has and this index lacks.
        self._origin: tuple[str, _Stamp | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_prepared_cache"] = {}
        return state

    # -- contents -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def get(self, url: str) -> SourceArticle | None:
        return self._documents.get(url)

    def articles(self) -> Iterator[SourceArticle]:
        return self._documents.articles()

    def add(self, articles: Iterable[SourceArticle]) -> int:
        """Add new articles and replace changed ones (same url); returns how many changed."""
        changed = 0
        for article in articles:
            stored = self._documents.put(article)
            if stored is None:
                continue
            doc, replaced = stored
            if replaced is not None:
                self._retrieval.drop(replaced)
            prepared = prepare(article.text, self.config.shingle, self._hash_cache)
            self._retrieval.add(doc, prepared.shingles, len(prepared.tokens), prepared.pair_keys())
            changed += 1
        return changed

    # -- finding copies -------------------------------------------------------------------

    def flush(self) -> None:
        """Merge added articles into the sorted arrays and drop replaced ones.

        ``match`` and ``save`` do this when needed; call it to pay the cost up front.
        """
        self._retrieval.flush()

    def candidates(self, shingles: U64) -> list[tuple[int, float]]:
        """Sources ranked by estimated containment in a page with these shingles."""
        return self._retrieval.candidates(np.unique(shingles))

    def shares_shingle(self, shingles: U64) -> bool:
        """Whether any of these shingle hashes (any order, repeats allowed) is kept for some
        source. Without one, ``candidates`` of the same shingles is empty: a cheaper first test
        (no sort of the page's shingles, no ranking)."""
        retrieval = self._retrieval
        retrieval.flush()
        if not shingles.size or not retrieval.keys.size:
            return False
        found, _ = retrieval.lookup(shingles)
        return bool(found.size)

    def candidates_for(self, text: str) -> list[tuple[int, float]]:
        """The sources retrieval would align for a page with this text, with their estimates."""
        page = prepare(text, self.config.shingle, self._hash_cache)
        return self._retrieval.candidates(page.distinct(), len(page.tokens), self._page_pairs(page))

    def _page_pairs(self, page: Prepared) -> U64:
        return page_keys(page.pair_keys(), self.config)

    def _prepared(self, doc: int) -> Prepared:
        """Tokens of a source, kept for the most recently aligned sources."""
        cache = self._prepared_cache
        found = cache.pop(doc, None)
        if found is None:
            found = prepare(self._documents.text(doc), self.config.shingle, self._hash_cache)
            while len(cache) >= _PREPARED_LIMIT:
                try:  # the least recently used; another thread may be evicting too
                    del cache[next(iter(cache))]
                except (KeyError, RuntimeError, StopIteration):
                    break
        cache[doc] = found
        return found

    def match(self, text: str, *, limit: int = 5) -> list[Match]:
        """Copies of indexed sources in ``text`` (a page's full visible text), best first."""
        cfg = self.config
        if limit <= 0 or not text:
            return []
        page = prepare(text, cfg.shingle, self._hash_cache)
        aligned = []
        found_candidates = self._retrieval.candidates(
            page.distinct(), len(page.tokens), self._page_pairs(page)
        )
        for doc, estimate in found_candidates:
            src = self._prepared(doc)
            spans = align_spans(src, page, cfg)
            if spans:
                aligned.append((matched_tokens(spans), estimate, doc, src, spans))
        found: list[Match] = []
        for matched, estimate, doc, src, spans in aligned:
            coverage = matched / max(len(src.tokens), 1)
            if is_copy(src, page, spans, cfg):
                found.append(
                    Match(
                        source_url=self._documents.url(doc),
                        coverage=coverage,
                        kind=cfg.kind_for(coverage),
                        passages=passages(src.tokens, page.tokens, spans),
                        score=estimate,
                    )
                )
        found.sort(key=lambda m: (-m.coverage, -m.score, m.source_url))
        return found[:limit]

    # -- the retrieval arrays, as benchmarks/match.py reads them ----------------------------

    @property
    def _keys(self) -> U64:
        return self._retrieval.keys

    @property
    def _offsets(self) -> I64:
        return self._retrieval.offsets

    @property
    def _postings(self) -> U32:
        return self._retrieval.postings

    @property
    def _bitmap(self) -> U8:
        return self._retrieval.bitmap

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str | Path, *, replace: bool = False) -> None:
        """Write the index to ``path`` atomically (a temporary file, then a rename).

        The index is merged, never overwritten: when the file on disk is not the one this
        index was loaded from (or last saved to), another writer saved it meanwhile, and the
        articles it holds that this index lacks are added here first. ``replace`` writes this
        index alone (``--rebuild-index``, or a damaged file). Saves into one folder take turns
        (an OS lock on the folder); temporary files of saves killed mid-way are removed.
        Raises IndexSaveError (a full disk, a read-only folder) naming the file.
        """
        target = Path(path)
        try:
            with _folder_locked(target):
                remove_stale_temps(target)
                if not replace:
                    self._merge_saved(target)
                self._write(target)
                self._origin = (str(target.absolute()), _stamp(target))
        except OSError as exc:
            raise IndexSaveError(
                f"cannot save the index ({exc.strerror or exc}); make the folder writable or "
                "choose another --index",
                where=str(target),
            ) from None

    def _merge_saved(self, target: Path) -> None:
        """Add the articles of the index saved at ``target`` that this one lacks, when the
        file changed since this index read or wrote it."""
        stamp = _stamp(target)
        if stamp is None or self._origin == (str(target.absolute()), stamp):
            return
        try:
            saved = SourceIndex.load(target)
        except IndexFileError as exc:
            log.warning("%s; saving this index over it", exc)
            return
        missing = [article for article in saved.articles() if article.url not in self]
        if missing:
            log.info("%s: kept %d articles another writer saved", target, len(missing))
            self.add(missing)

    def _write(self, target: Path, version: int | None = None) -> None:
        """Write the file (in ``version``, the format this index calls for unless given: the
        tests write the formats of earlier releases this way)."""
        self.flush()
        documents, retrieval = self._documents, self._retrieval
        live = documents.live()
        if version is None:
            version = (
                1
                if self._hash_cache is not None
                else INDEX_FORMAT
                if self.config.pair_modulus
                else 2
            )
        compress = version >= COMPRESSED
        text = Stream.of(live, lambda doc: documents.piece(doc, text=True, compress=compress))
        meta = Stream.of(live, lambda doc: documents.piece(doc, text=False))
        write_index(
            target,
            version=version,
            config=self.config,
            urls=[documents.url(d) for d in live],
            df_limit=retrieval.df_limit,
            bitmap_shift=retrieval.bitmap_shift,
            arrays={
                **retrieval.arrays(live, narrow=compress),
                "text": text,
                "text_offsets": text.offsets,
                "meta": meta,
                "meta_offsets": meta.offsets,
            },
        )

    @classmethod
    def load(cls, path: str | Path, *, config: MatchConfig | None = None) -> SourceIndex:
        """Read an index written by :meth:`save` (format 4, or formats 1 to 3 of earlier
        releases; a format 3 file is saved again as format 4). A truncated or damaged file
        raises :class:`IndexDamaged` naming it (its checksum disagrees, or its arrays do
        not fit); temporary files of saves killed mid-way are removed.

        ``config``, when given, replaces the saved settings: its thresholds (min_coverage,
        min_words, kinds, stock phrases, retrieval) apply from then on. The settings that
        shape the saved arrays (shingle, modulus, min_samples) must equal the file's: any
        difference raises :class:`IndexFileError`, as the file has to be rebuilt for them.
        """
        remove_stale_temps(path)
        stamp = _stamp(Path(path))
        saved = read_index(path, config)
        arrays, n = saved.arrays, len(saved.urls)
        # Whether and how the file keeps content-word pairs is the file's to say.
        pairs = saved.config.pair_modulus
        index = cls(saved.config if config is None else replace(config, pair_modulus=pairs))
        index._hash_cache = {} if saved.version == 1 else None
        index._documents = Documents.from_file(
            saved.urls,
            Blob(arrays["text"], arrays["text_offsets"], compressed=saved.version >= COMPRESSED),
            Blob(arrays["meta"], arrays["meta_offsets"]),
        )
        if len(index._documents) != n:
            raise IndexDamaged(f"the index repeats a url; {REBUILD}", where=str(path))
        index._retrieval = Retrieval.from_file(
            index.config,
            arrays,
            saved.df_limit,
            saved.bitmap,
            keep_counts=config is None or config.df_limit(n) == saved.df_limit,
        )
        index._origin = (str(Path(path).absolute()), stamp)
        return index
