"""Benchmark of the matcher at 1,000, 10,000 and 100,000 sources. Prints ONE JSON line.

    python benchmarks/match.py                 # all sizes, about 3-5 minutes on 2 cores
    python benchmarks/match.py --sizes 1000    # a quick look

Sources are the Zyte benchmark's real articles plus filler articles generated at run time
from the corpus' own word distribution (lengths drawn from the real ones, and one sentence
in twenty taken from a pool of real sentences, so stock phrases exist). Nothing generated is
saved. Pages are the real articles wrapped in fresh generated chrome: full copies, 30% and
50% excerpts (articles of 200 tokens or more), and unrelated pages of chrome only.

Each size runs in its own process so that peak memory is that size's own: the whole
process's peak resident set (Linux VmHWM, which counts the pages of the memory-mapped index
file that were touched) through building, merging, saving, loading, adding one article and
matching every page, read and reset at the end of each stage so that the stage that sets
the peak shows (ru_maxrss where /proc is not there: then the stages are not told apart).
Side by side, in the same run and on the same shingles:
- the index as older files hold it (format 1: blake2b token hashes) at sizes up to 10,000,
  each page matched by both in turn;
- datasketch MinHash LSH (128 permutations, threshold 0.5) at sizes up to 10,000
  (building it for 100,000 sources would take most of the time budget);
- brute force: rapidfuzz LCSseq containment of every source in the page, top-1, at 1,000
  sources on a sample of pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from xpostcheck.match.index import SourceIndex
from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import fast_token_hashes, shingle_hashes, tokenize

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "zyte-article-benchmark"
SIZES = (1_000, 10_000, 100_000)
LSH_MAX = 10_000
FORMAT_1_MAX = 10_000
BRUTE_SIZES = (1_000,)
BRUTE_PAGES = 30


def _real_articles() -> list[SourceArticle]:
    path = CORPUS / "ground-truth.json"
    if not path.exists():
        raise SystemExit(f"the Zyte article benchmark is needed at {CORPUS}")
    truth = json.loads(path.read_text(encoding="utf-8"))
    return [
        SourceArticle(url=item["url"], title="", text=item["articleBody"])
        for _, item in sorted(truth.items())
    ]


# Words as a reader sees them; a character in scripts written without spaces.
_WORD = re.compile(
    r"[\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\s\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+"
)


class Filler:
    """Cheap text: each filler article copies the word frequencies of one real article.

    So a filler is in that article's language, and fillers from the same template share
    common-word 5-grams; one passage in twenty is a real sentence from a small shared pool,
    so stock phrases exist too.
    """

    def __init__(self, real: list[SourceArticle], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.templates: list[tuple[np.ndarray, np.ndarray, int]] = []
        sentences: list[str] = []
        for article in real:
            words = _WORD.findall(article.text)
            if len(words) < 40:
                continue
            vocab, counts = np.unique(np.array(words, dtype=object), return_counts=True)
            self.templates.append((vocab, np.cumsum(counts) / counts.sum(), len(words)))
            sentences += [
                s for s in re.split(r"(?<=[.!?])\s+", article.text) if 8 <= len(s.split()) <= 40
            ]
        self.pool = [sentences[i] for i in self.rng.permutation(len(sentences))[:300]]

    def _draw(self, vocab: np.ndarray, cdf: np.ndarray, n: int) -> list[str]:
        ids = np.minimum(np.searchsorted(cdf, self.rng.random(n)), len(vocab) - 1)
        words: list[str] = vocab[ids].tolist()
        return words

    def words(self, n: int) -> str:
        """Page chrome: words of one real article (so mostly one language)."""
        vocab, cdf, _ = self.templates[int(self.rng.integers(len(self.templates)))]
        return " ".join(self._draw(vocab, cdf, n))

    def article(self) -> str:
        vocab, cdf, n = self.templates[int(self.rng.integers(len(self.templates)))]
        words = self._draw(vocab, cdf, n)
        parts = []
        for start in range(0, n, 20):
            if self.rng.random() < 0.05:
                parts.append(self.pool[int(self.rng.integers(len(self.pool)))])
            parts.append(" ".join(words[start : start + 20]))
        return "\n".join(parts)


def _pages(
    real: list[SourceArticle], filler: Filler, rng: random.Random
) -> list[tuple[str, str | None, str]]:
    """(kind, source url or None, page text)."""
    pages: list[tuple[str, str | None, str]] = []
    for article in real:
        tokens = tokenize(article.text)
        n = len(tokens)
        if n < 60:
            continue

        def wrap(body: str) -> str:
            return f"{filler.words(rng.randint(150, 400))}\n{body}\n{filler.words(200)}"

        pages.append(("full", article.url, wrap(article.text)))
        if n >= 200:
            for share in (0.3, 0.5):
                length = int(n * share)
                a = rng.randrange(0, n - length)
                excerpt = article.text[int(tokens.starts[a]) : int(tokens.ends[a + length - 1])]
                pages.append((f"excerpt{int(share * 100)}", article.url, wrap(excerpt)))
    for _ in range(100):
        pages.append(("unrelated", None, filler.words(900)))
    return pages


def _shingles(text: str) -> np.ndarray:
    """The distinct shingles of a text, hashed as the index hashes them."""
    return np.unique(shingle_hashes(fast_token_hashes(tokenize(text)), 5))


def _low32(value: int) -> int:
    return value & 0xFFFFFFFF


def _lsh(sources: list[SourceArticle], pages: list[tuple[str, str | None, str]]) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for article in sources:
        m = MinHash(num_perm=128, hashfunc=_low32)
        m.update_batch(_shingles(article.text).tolist())
        lsh.insert(article.url, m)
    build = time.perf_counter() - started
    times, found = [], {"full": [0, 0], "excerpt30": [0, 0], "excerpt50": [0, 0]}
    false = 0
    for kind, url, text in pages:
        t0 = time.perf_counter()
        m = MinHash(num_perm=128, hashfunc=_low32)
        m.update_batch(_shingles(text).tolist())
        hits = lsh.query(m)
        times.append(time.perf_counter() - t0)
        if url is None:
            false += bool(hits)
        else:
            found[kind][0] += url in hits
            found[kind][1] += 1
    return {
        "build_s": round(build, 2),
        "median_ms": round(statistics.median(times) * 1e3, 3),
        **{f"recall_{k}": round(a / max(b, 1), 3) for k, (a, b) in found.items()},
        "unrelated_with_candidates": false,
    }


def _brute(
    sources: list[SourceArticle], pages: list[tuple[str, str | None, str]], rng: random.Random
) -> dict[str, Any]:
    from rapidfuzz.distance import LCSseq

    ids = [fast_token_hashes(tokenize(a.text)).tolist() for a in sources]
    sample = rng.sample([p for p in pages if p[1] is not None], BRUTE_PAGES)
    times, top1 = [], 0
    for _, url, text in sample:
        t0 = time.perf_counter()
        page = fast_token_hashes(tokenize(text)).tolist()
        scores = [LCSseq.similarity(src, page) / max(len(src), 1) for src in ids]
        best = int(np.argmax(scores))
        times.append(time.perf_counter() - t0)
        top1 += sources[best].url == url
    return {
        "pages": len(sample),
        "median_ms": round(statistics.median(times) * 1e3, 1),
        "top1_recall": round(top1 / len(sample), 3),
    }


def _format_1_index(sources: list[SourceArticle], folder: Path) -> tuple[SourceIndex, float]:
    """The same sources in an index as format 1 files hold them (blake2b token hashes, one
    dictionary look-up per token), saved and loaded as a scan finds an older index file."""
    built = SourceIndex()
    built._hash_cache = {}  # hash as format 1 did (SourceIndex.load sets it for such files)
    started = time.perf_counter()
    built.add(sources)
    built.flush()
    build = time.perf_counter() - started
    path = folder / "format1.index"
    built.save(path)
    assert path.read_bytes()[8:12] == (1).to_bytes(4, "little")
    return SourceIndex.load(path), build


def _copies(matches: list[Any]) -> list[tuple[str, float, str, Any]]:
    return [(m.source_url, m.coverage, m.kind, m.passages) for m in matches]


class Peaks:
    """The process's peak resident memory in each stage, and over all of them.

    Linux resets the peak (VmHWM) when 5 is written to /proc/self/clear_refs; each stage's
    figure is read before the reset, so the overall peak is the largest of them.
    """

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._resettable = self._reset()

    @staticmethod
    def _reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as out:
                out.write("5")
            return Peaks._hwm() is not None
        except OSError:
            return False

    @staticmethod
    def _hwm() -> float | None:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stage(self, name: str) -> None:
        """The peak since the previous stage ended, under ``name``."""
        if self._resettable:
            self.stages[name] = round(self._hwm() or 0.0, 1)
            self._reset()
        else:
            self.stages[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    @property
    def peak(self) -> float:
        return max(self.stages.values(), default=0.0)


def child(size: int) -> dict[str, Any]:
    rng = random.Random(size)
    real = _real_articles()
    filler = Filler(real, seed=size)

    def generated() -> Iterator[SourceArticle]:
        yield from real
        for i in range(size - len(real)):
            yield SourceArticle(url=f"https://filler.example/{i}", title="", text=filler.article())

    # The comparisons need every source at hand; past their sizes the sources are streamed
    # into the index as a scan feeds them (so peak memory is the index's, not this list's),
    # and the build time includes generating them.
    streamed = size > max(LSH_MAX, FORMAT_1_MAX, *BRUTE_SIZES)
    peaks = Peaks()
    t0 = time.perf_counter()
    sources = [] if streamed else list(generated())
    generate = time.perf_counter() - t0

    index = SourceIndex()
    t0 = time.perf_counter()
    index.add(generated() if streamed else sources)
    peaks.stage("add")
    index.flush()
    build = time.perf_counter() - t0
    peaks.stage("merge")
    pages = _pages(real, filler, rng)  # after the sources: the same pages either way
    array_bytes = sum(
        a.nbytes for a in (index._keys, index._offsets, index._postings, index._bitmap)
    )
    counts = {"keys": int(index._keys.size), "postings": int(index._postings.size)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.index"
        t0 = time.perf_counter()
        index.save(path)
        save = time.perf_counter() - t0
        file_bytes = path.stat().st_size
        peaks.stage("save")
        del index
        t0 = time.perf_counter()
        index = SourceIndex.load(path)
        load = time.perf_counter() - t0
        peaks.stage("load")

        t0 = time.perf_counter()
        more = [SourceArticle(url="https://new.example/1", title="", text=filler.article())]
        index.add(more)
        index.flush()
        add_one = time.perf_counter() - t0
        peaks.stage("add_one_and_merge")
        # The older format is timed page by page in turn with this one, so that a slow spell
        # of the shared machine falls on both.
        legacy, legacy_build = (
            _format_1_index(sources, Path(tmp)) if size <= FORMAT_1_MAX else (None, 0.0)
        )

        times: list[float] = []
        legacy_times: list[float] = []
        legacy_differ = 0
        found: dict[str, list[int]] = {"full": [0, 0], "excerpt30": [0, 0], "excerpt50": [0, 0]}
        coverage_error: list[float] = []
        false = other = 0
        for kind, url, text in pages:
            start = time.perf_counter()
            matches = index.match(text)
            times.append(time.perf_counter() - start)
            if legacy is not None:
                start = time.perf_counter()
                legacy_matches = legacy.match(text)
                legacy_times.append(time.perf_counter() - start)
                legacy_differ += _copies(legacy_matches) != _copies(matches)
            if url is None:
                false += len(matches)
                continue
            # The corpus has same-story pairs sharing wire copy: real overlaps, counted apart.
            other += sum(m.source_url != url for m in matches)
            hit = next((m for m in matches if m.source_url == url), None)
            found[kind][0] += hit is not None
            found[kind][1] += 1
            if hit is not None:
                truth = 1.0 if kind == "full" else int(kind[7:]) / 100
                coverage_error.append(abs(hit.coverage - truth))
        # Up to FORMAT_1_MAX sources, this stage also holds the format 1 index (and the
        # sources list): the figure is the whole process's.
        peaks.stage("match")
        # Outside the timing: how many sources each page had aligned.
        aligned = [len(index.candidates_for(text)) for _, _, text in pages]
        del index, legacy
    result: dict[str, Any] = {
        "sources": size,
        "pages": len(pages),
        "generate_s": None if streamed else round(generate, 1),
        "build_s": round(build, 2),
        "build_ms_per_source": round(build / size * 1e3, 3),
        "add_one_then_merge_s": round(add_one, 3),
        "save_s": round(save, 2),
        "load_ms": round(load * 1e3, 1),
        "index_file_mb": round(file_bytes / 2**20, 1),
        "index_arrays_mb": round(array_bytes / 2**20, 1),
        "index_keys": counts["keys"],
        "index_postings": counts["postings"],
        "peak_rss_mb": peaks.peak,
        "peak_rss_mb_by_stage": peaks.stages,
        "median_ms": round(statistics.median(times) * 1e3, 3),
        "p95_ms": round(float(np.percentile(times, 95)) * 1e3, 3),
        **{f"recall_{k}": round(a / max(b, 1), 4) for k, (a, b) in found.items()},
        "false_reports_on_unrelated": false,
        "other_sources_reported": other,
        "max_coverage_error": round(max(coverage_error, default=0.0), 3),
        "aligned_per_page_mean": round(statistics.mean(aligned), 2),
    }
    if legacy_times:
        result["format_1_index"] = {
            "build_s": round(legacy_build, 2),
            "median_ms": round(statistics.median(legacy_times) * 1e3, 3),
            "p95_ms": round(float(np.percentile(legacy_times, 95)) * 1e3, 3),
            "median_ratio_to_format_2": round(
                statistics.median(legacy_times) / statistics.median(times), 2
            ),
            "pages_with_other_copies": legacy_differ,
        }
    if size <= LSH_MAX:
        result["minhash_lsh"] = _lsh(sources, pages)
    if size in BRUTE_SIZES:
        result["brute_rapidfuzz"] = _brute(sources, pages, rng)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    started = time.perf_counter()
    runs = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        if out.returncode:
            raise SystemExit(f"benchmark at {size} sources failed:\n{out.stderr}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary: dict[str, Any] = {
        "benchmark": "match",
        "cpus": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
        "total_s": round(time.perf_counter() - started, 1),
    }
    if len(runs) > 1:
        summary["median_growth_first_to_last"] = round(
            runs[-1]["median_ms"] / runs[0]["median_ms"], 2
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
