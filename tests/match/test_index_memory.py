"""The index as built to stay within memory (issue 11): merged a slice of the key space at a
time, articles held in anonymous maps, pages of a loaded file let go after reading. It must
give the same arrays, matches and files as before, load files of formats 3 and 4, and turn
a truncated or corrupt file into one clear error naming it."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from xpostcheck.match import documents as documents_module
from xpostcheck.match import postings as postings_module
from xpostcheck.match.documents import Arena
from xpostcheck.match.fileformat import release_pages
from xpostcheck.match.index import IndexFileError, SourceIndex
from xpostcheck.models import SourceArticle

_VOCABULARY = [f"{a}{b}" for a in ("har", "or", "vel", "mon", "tas", "bri") for b in "aeiouy"]


def _articles(count: int, seed: int = 11) -> list[SourceArticle]:
    """Articles of 200-400 words drawn from one small vocabulary, so that their samples
    share keys (stock phrases) as well as hold their own."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        words = [
            f"{rng.choice(_VOCABULARY)}{rng.randrange(40)}" for _ in range(rng.randint(200, 400))
        ]
        text = ". ".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12)) + "."
        out.append(SourceArticle(url=f"https://pub.example/{n}", title=f"T{n}", text=text))
    return out


def _page(article: SourceArticle, share: float = 1.0) -> str:
    words = article.text.split()
    return "Menu Home Contact. " + " ".join(words[: int(len(words) * share)]) + " Footer links."


def _arrays(index: SourceIndex) -> list[np.ndarray]:
    return [
        np.asarray(index._keys),
        np.asarray(index._offsets).astype(np.int64),
        np.asarray(index._postings),
        np.asarray(index._bitmap),
        np.asarray(index._retrieval.effective),
    ]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _found(index: SourceIndex, pages: list[str]) -> list[list[tuple[str, float, str]]]:
    return [[(m.source_url, m.coverage, m.kind) for m in index.match(p)] for p in pages]


def test_sliced_merges_give_the_arrays_and_matches_of_one_merge(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    articles = _articles(120)
    pages = [_page(a, share) for a, share in zip(articles[::10], (1.0, 0.3, 0.5) * 4, strict=True)]
    whole = SourceIndex()
    whole.add(articles)
    whole.flush()
    expected = _found(whole, pages)
    assert all(
        found and found[0][0] == a.url for found, a in zip(expected, articles[::10], strict=True)
    )
    # Now in many slices and chunks, in three merges, one of them on a loaded file.
    monkeypatch.setattr(postings_module, "_SLICE_POSTINGS", 200)
    monkeypatch.setattr(postings_module, "_CHUNK", 300)
    sliced = SourceIndex()
    sliced.add(articles[:50])
    sliced.flush()
    sliced.add(articles[50:60])
    sliced.save(tmp_path / "part.index")
    loaded = SourceIndex.load(tmp_path / "part.index")
    loaded.add(articles[60:])
    loaded.flush()
    assert _same(_arrays(loaded), _arrays(whole))
    assert _found(loaded, pages) == expected
    # A replaced article drops its postings at the next merge, slice by slice too.
    changed = replace(articles[3], text=articles[4].text + " and more")
    assert loaded.add([changed]) == 1 and whole.add([changed]) == 1
    loaded.flush()
    whole.flush()
    assert np.array_equal(np.asarray(loaded._postings), np.asarray(whole._postings))
    assert _found(loaded, pages) == _found(whole, pages)


def test_files_of_format_3_and_4_load_and_are_saved_again_as_format_4(tmp_path: Path) -> None:
    articles = _articles(30)
    pages = [_page(a) for a in articles[:5]] + [_page(articles[7], 0.3)]
    index = SourceIndex()
    index.add(articles)
    index.flush()
    expected = _found(index, pages)
    for version in (3, 4):  # as the release of each wrote it
        old = tmp_path / f"v{version}.index"
        index._write(old, version=version)
        assert old.read_bytes()[8:12] == version.to_bytes(4, "little")
        loaded = SourceIndex.load(old)
        assert list(loaded.articles()) == articles
        assert _found(loaded, pages) == expected
        again = tmp_path / f"v{version}-again.index"
        # Grown (merged into the arrays mapped from the file) and saved again.
        loaded.add([replace(a, url=a.url + "-new") for a in _articles(2, seed=5)])
        loaded.save(again)
        assert again.read_bytes()[8:12] == (4).to_bytes(4, "little")
        reloaded = SourceIndex.load(again)
        assert len(reloaded) == 32 and reloaded.get(articles[9].url) == articles[9]
        assert _found(reloaded, pages) == expected


def test_a_truncated_or_corrupt_file_is_one_clear_error_naming_it(tmp_path: Path) -> None:
    index = SourceIndex()
    index.add(_articles(20))
    path = tmp_path / "sources.index"
    index.save(path)
    data = path.read_bytes()
    rng = random.Random(3)
    cuts = sorted(
        {0, 1, 8, 23, 24, 100, len(data) - 33, len(data) - 1, *rng.sample(range(len(data)), 25)}
    )
    flips = rng.sample(range(len(data)), 15)
    damaged = [data[:cut] for cut in cuts]
    for at in flips:
        changed = bytearray(data)
        changed[at] ^= 0x10
        damaged.append(bytes(changed))
    for case, content in enumerate(damaged):
        path.write_bytes(content)
        with pytest.raises(IndexFileError) as err:
            SourceIndex.load(path)
        message = str(err.value)
        assert message.startswith(f"{path}: "), (case, message)
        assert "\n" not in message and ("rebuild" in message or "build one" in message)


def test_pages_of_a_mapped_array_let_go_read_the_same_again(tmp_path: Path) -> None:
    values = np.arange(1 << 20, dtype=np.uint32)
    path = tmp_path / "arr"
    path.write_bytes(values.tobytes())
    mapped = np.memmap(path, dtype=np.uint8, mode="r")
    view = mapped[12:].view(np.uint32)[: (1 << 20) - 10]
    assert int(view.sum(dtype=np.int64)) == int(values[3:-7].sum(dtype=np.int64))
    release_pages(view)
    release_pages(view[5:1000])
    assert np.array_equal(view, np.frombuffer(values.tobytes()[12:], dtype=np.uint32)[: view.size])
    plain = values.copy()
    release_pages(plain)  # not mapped from a file: nothing happens
    assert np.array_equal(plain, values)


def test_the_arena_spans_maps_and_pickles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents_module, "_MAP_BYTES", 1000)
    arena = Arena()
    pieces = [bytes([n % 251]) * n for n in (0, 10, 990, 5, 2500, 1, 999)]
    assert [arena.append(p) for p in pieces] == list(range(len(pieces)))
    assert [arena[i] for i in range(len(pieces))] == pieces
    again = pickle.loads(pickle.dumps(arena))
    assert [again[i] for i in range(len(pieces))] == pieces
    assert len(again._maps) == len(arena._maps) > 3
