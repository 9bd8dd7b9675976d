"""The matcher on a PAN text alignment corpus (PAN 2013 training by default). ONE JSON line.

    python benchmarks/pan.py                    # every subset, pair and index mode
    python benchmarks/pan.py --pairs 200        # the first 200 pairs of each subset
    python benchmarks/pan.py --corpus pan13-text-alignment-test-corpus2.tar.gz

The corpus is read from ``../shared/corpora/pan13-train/pan13-train.tar.gz`` (or ``--corpus``:
another PAN text alignment corpus, as a tarball or a folder, whatever its top folder is
called). Its subsets are the folders found beside ``src/`` and ``susp/`` that hold a ``pairs``
file or XML files of cases: known kinds are reported by kind (``02-no-obfuscation`` as
``verbatim``), others under their folder name. The measures are those of Potthast et al.,
"An Evaluation Framework for Plagiarism Detection" (COLING 2010), implemented here:

- a case s and a detection r are character ranges in a suspicious document and a source;
  r detects s when they name the same two documents and overlap in both;
- macro precision: the mean over detections of |union of (s & r) over the cases r detects| / |r|;
- macro recall: the mean over cases of |union of (s & r) over the detections of s| / |s|;
  |x| counts the characters on both sides (suspicious and source);
- granularity: the mean number of detections of each detected case;
- plagdet: F1 / log2(1 + granularity). With no case and no detection both are 1; with one
  and not the other, 0 (as PAN's own script does).

Pair mode aligns each listed pair and decides as a scan would (``judge``); index mode builds
one ``SourceIndex`` over all sources and matches each suspicious document once, so retrieval
counts too. Each mode runs with the copy thresholds as shipped and off
(``MatchConfig(min_coverage=0, min_words=0)``).

Index mode is scored, as PAN scores text alignment, on the listed pairs: the detections of a
listed (suspicious document, source) pair. A suspicious document also shares text with
sources it is not listed with (the corpus' web pages share Wikipedia and census templates,
and some hold whole pages of an unlisted source: no ground truth says whether those are
cases), so those detections are counted apart, in ``index_*_unlisted``: per subset, how many,
and how many of them have the same tokens on both sides.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tarfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xpostcheck.match import MatchConfig, SourceIndex, judge
from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import tokenize

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pan13-train"
# The subsets of the PAN text alignment corpora, by the end of their folder names (PAN 2013
# training and test corpora, PAN 2014 training: "02-no-obfuscation" and so on). A folder
# with another name is a subset too, reported under its own name.
KINDS = {
    "no-plagiarism": "none",
    "no-obfuscation": "verbatim",
    "random-obfuscation": "random",
    "translation-obfuscation": "translation",
    "summary-obfuscation": "summary",
}
SUBSETS = (
    "01-no-plagiarism",
    "02-no-obfuscation",
    "03-random-obfuscation",
    "04-translation-obfuscation",
    "05-summary-obfuscation",
)
_FEATURE = re.compile(r"<feature\b([^>]*)/>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_NUMBERED = re.compile(r"^\d+-")
_TARBALLS = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")

Span = tuple[int, int]  # [start, end) characters


def short(subset: str) -> str:
    """The name a subset is reported under: its kind, or its folder name when unknown."""
    return KINDS.get(_NUMBERED.sub("", subset), subset)


SHORT = {s: short(s) for s in SUBSETS}


@dataclass(frozen=True)
class Case:
    """A ground-truth case or a detection: ranges in the suspicious document and the source."""

    susp: str
    src: str
    susp_span: Span
    src_span: Span

    @property
    def size(self) -> int:
        return (self.susp_span[1] - self.susp_span[0]) + (self.src_span[1] - self.src_span[0])


@dataclass
class Corpus:
    texts: dict[str, str]  # "src/x.txt" and "susp/y.txt" -> text
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # subset -> pairs
    cases: dict[str, list[Case]] = field(default_factory=dict)  # subset -> cases

    @property
    def subsets(self) -> list[str]:
        """The subsets found, in folder order."""
        return list(self.pairs)


def _cases(xml: str, susp: str) -> list[Case]:
    out = []
    for feature in _FEATURE.finditer(xml):
        attrs = dict(_ATTR.findall(feature.group(1)))
        if "source_reference" not in attrs or "this_offset" not in attrs:
            continue
        t0, s0 = int(attrs["this_offset"]), int(attrs["source_offset"])
        out.append(
            Case(
                susp,
                attrs["source_reference"],
                (t0, t0 + int(attrs["this_length"])),
                (s0, s0 + int(attrs["source_length"])),
            )
        )
    return out


def _read(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # some PAN documents are not clean UTF-8
        return raw.decode("latin-1")


def _files(path: Path) -> Iterable[tuple[str, str]]:
    """(path inside the corpus, text) of every file, from a tarball or a folder."""
    if path.is_dir():
        inner = [f for f in sorted(path.iterdir()) if f.name.endswith(_TARBALLS)]
        if not any(path.rglob("src")) and inner:
            yield from _files(inner[0])
            return
        for file in sorted(path.rglob("*")):
            if file.is_file() and not file.name.endswith(_TARBALLS):
                yield file.relative_to(path).as_posix(), _read(file.read_bytes())
        return
    if not path.is_file():
        raise SystemExit(f"no PAN text alignment corpus at {path}: give a tarball or a folder")
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    yield member.name.removeprefix("./"), _read(handle.read())
    except (tarfile.TarError, OSError) as exc:
        raise SystemExit(f"cannot read the corpus tarball {path}: {exc}") from exc


def _root(names: Iterable[str]) -> str:
    """The folder (as a prefix, "" at the top) that holds ``src/`` and ``susp/``, whatever
    the corpus' top folder is called."""
    found: dict[str, set[str]] = defaultdict(set)
    for name in names:
        parts = name.split("/")
        if len(parts) >= 2 and parts[-2] in ("src", "susp"):
            found["/".join(parts[:-2])].add(parts[-2])
    both = sorted((p for p, kinds in found.items() if len(kinds) == 2), key=len)
    if not both:
        raise SystemExit("no src/ and susp/ folders in the corpus: is it a PAN text alignment one?")
    return both[0] + "/" if both[0] else ""


def _listed(files: dict[str, str], subset: str, texts: dict[str, str]) -> list[tuple[str, str]]:
    """A subset's pairs: its ``pairs`` file, or else the names of its XML files
    ("<suspicious document>-<source>.xml")."""
    if f"{subset}/pairs" in files:
        lines = files[f"{subset}/pairs"].split("\n")
        return [(w[0], w[1]) for w in (line.split() for line in lines) if len(w) >= 2]
    out = []
    prefix = f"{subset}/"
    for name in sorted(files):
        if not (name.startswith(prefix) and name.endswith(".xml")):
            continue
        stem = name[len(prefix) : -4]
        for at in (i for i, c in enumerate(stem) if c == "-"):
            susp, src = stem[:at] + ".txt", stem[at + 1 :] + ".txt"
            if f"susp/{susp}" in texts and f"src/{src}" in texts:
                out.append((susp, src))
                break
    return out


def load_corpus(path: Path = CORPUS, *, limit: int | None = None) -> Corpus:
    """Texts, listed pairs and ground-truth cases (``limit`` pairs per subset, if given) of
    every subset folder present: a folder beside ``src/`` and ``susp/`` with a ``pairs``
    file or XML files."""
    raw = dict(_files(path))
    root = _root(raw)
    files = {k[len(root) :]: v for k, v in raw.items() if k.startswith(root)}
    corpus = Corpus({k: v for k, v in files.items() if k.startswith(("src/", "susp/"))})
    folders = sorted(
        {k.split("/")[0] for k in files if "/" in k and k.endswith(("/pairs", ".xml"))}
        - {"src", "susp"}
    )
    for subset in folders:
        pairs = [
            (a, b)
            for a, b in _listed(files, subset, corpus.texts)
            if f"susp/{a}" in corpus.texts and f"src/{b}" in corpus.texts
        ][:limit]
        corpus.pairs[subset] = pairs
        corpus.cases[subset] = [
            case
            for susp, src in pairs
            for case in _cases(files.get(f"{subset}/{susp[:-4]}-{src[:-4]}.xml", ""), susp)
        ]
    return corpus


# -- the measures --------------------------------------------------------------------------


def _overlap(a: Span, b: Span) -> Span | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def _union_length(spans: list[Span]) -> int:
    total, end = 0, -1
    for a, b in sorted(spans):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def _detects(r: Case, s: Case) -> tuple[Span, Span] | None:
    if r.susp != s.susp or r.src != s.src:
        return None
    a, b = _overlap(r.susp_span, s.susp_span), _overlap(r.src_span, s.src_span)
    return None if a is None or b is None else (a, b)


def measures(cases: list[Case], detections: list[Case]) -> dict[str, float]:
    """Macro precision and recall, granularity and plagdet (PAN's character measures)."""
    by_pair: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for d in detections:
        by_pair[d.susp, d.src].append(d)
    case_pairs: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for s in cases:
        case_pairs[s.susp, s.src].append(s)
    recall_sum, detected, granules = 0.0, 0, 0
    for s in cases:
        hits = [o for r in by_pair.get((s.susp, s.src), []) if (o := _detects(r, s))]
        if hits:
            detected += 1
            granules += len(hits)
            got = _union_length([h[0] for h in hits]) + _union_length([h[1] for h in hits])
            recall_sum += got / max(s.size, 1)
    precision_sum = 0.0
    for r in detections:
        hits = [o for s in case_pairs.get((r.susp, r.src), []) if (o := _detects(r, s))]
        got = _union_length([h[0] for h in hits]) + _union_length([h[1] for h in hits])
        precision_sum += got / max(r.size, 1)
    if not cases and not detections:
        precision = recall = 1.0
    elif not cases or not detections:
        precision = recall = 0.0
    else:
        precision, recall = precision_sum / len(detections), recall_sum / len(cases)
    granularity = granules / detected if detected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "plagdet": round(f1 / math.log2(1 + granularity), 3),
        "recall": round(recall, 3),
        "precision": round(precision, 3),
        "granularity": round(granularity, 3),
        "cases": len(cases),
        "detections": len(detections),
    }


# -- the two modes -------------------------------------------------------------------------

OFF = MatchConfig(min_coverage=0.0, min_words=0)
SHIPPED = MatchConfig()


def pair_detections(corpus: Corpus, subset: str, config: MatchConfig) -> list[Case]:
    out = []
    for susp, src in corpus.pairs[subset]:
        page = corpus.texts[f"susp/{susp}"]
        result, copy = judge(corpus.texts[f"src/{src}"], page, config)
        if not copy:
            continue
        out += [
            Case(susp, src, (p.page_start, p.page_end), (p.source_start, p.source_end))
            for p in result.passages
        ]
    return out


def index_detections(corpus: Corpus, index: SourceIndex, limit: int) -> list[Case]:
    """Each suspicious document of the listed pairs matched once against every source."""
    suspects = sorted({susp for pairs in corpus.pairs.values() for susp, _ in pairs})
    out = []
    for susp in suspects:
        for m in index.match(corpus.texts[f"susp/{susp}"], limit=limit):
            src = m.source_url.removeprefix("pan:")
            out += [
                Case(susp, src, (p.page_start, p.page_end), (p.source_start, p.source_end))
                for p in m.passages
            ]
    return out


def build_index(corpus: Corpus, config: MatchConfig) -> SourceIndex:
    """One index over every source of the corpus."""
    index = SourceIndex(config)
    index.add(
        SourceArticle(url=f"pan:{name[4:]}", title="", text=text)
        for name, text in sorted(corpus.texts.items())
        if name.startswith("src/")
    )
    index.flush()
    return index


def index_figures(
    corpus: Corpus,
    config: MatchConfig,
    subsets: Iterable[str],
    unlisted: dict[str, dict[str, int]] | None = None,
    index: SourceIndex | None = None,
) -> dict[str, dict[str, float]]:
    """Index mode: one index over every source of the corpus (``index``, or one built with
    ``config``), each suspicious document of these subsets' pairs matched once; PAN's
    measures on the listed pairs per subset, and (in ``unlisted``, when given) the
    detections of other sources."""
    subsets = [s for s in subsets if s in corpus.pairs]  # a subset missing is left out
    if index is None:
        index = build_index(corpus, config)
    sample = Corpus(corpus.texts, {s: corpus.pairs[s] for s in subsets})
    found = index_detections(sample, index, limit=100)
    # A suspicious document may be listed in several subsets (with other sources): a
    # detection counts in each subset that lists its pair, and as unlisted in each subset
    # that holds its document but lists no pair of it.
    listed = {s: set(corpus.pairs[s]) for s in subsets}
    holds = {s: {susp for susp, _ in corpus.pairs[s]} for s in subsets}
    anywhere = set().union(*listed.values()) if listed else set()
    per: dict[str, list[Case]] = defaultdict(list)
    other: dict[str, list[Case]] = defaultdict(list)
    for d in found:
        for s in subsets:
            if (d.susp, d.src) in listed[s]:
                per[s].append(d)
            elif (d.susp, d.src) not in anywhere and d.susp in holds[s]:
                other[s].append(d)
    if unlisted is not None:
        unlisted.update({short(s): _unlisted(corpus, other[s]) for s in subsets})
    return {short(s): measures(corpus.cases[s], per[s]) for s in subsets}


def _unlisted(corpus: Corpus, detections: list[Case]) -> dict[str, int]:
    """Detections of sources a suspicious document is not listed with, and how many of them
    are the same tokens on both sides (text the two web pages share)."""
    same = 0
    for d in detections:
        page = corpus.texts[f"susp/{d.susp}"][d.susp_span[0] : d.susp_span[1]]
        source = corpus.texts[f"src/{d.src}"][d.src_span[0] : d.src_span[1]]
        same += tokenize(page).words == tokenize(source).words
    return {"detections": len(detections), "identical": same}


def run(corpus: Corpus, modes: list[str]) -> dict[str, object]:
    figures: dict[str, object] = {}
    for name, config in (("shipped", SHIPPED), ("off", OFF)):
        if "pair" in modes:
            started = time.perf_counter()
            figures[f"pair_{name}"] = {
                short(s): measures(corpus.cases[s], pair_detections(corpus, s, config))
                for s in corpus.subsets
            }
            figures[f"pair_{name}_seconds"] = round(time.perf_counter() - started, 1)
        if "index" in modes:
            started = time.perf_counter()
            unlisted: dict[str, dict[str, int]] = {}
            figures[f"index_{name}"] = index_figures(corpus, config, corpus.subsets, unlisted)
            figures[f"index_{name}_unlisted"] = unlisted
            figures[f"index_{name}_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--pairs", type=int, default=None, help="first N pairs per subset")
    parser.add_argument("--modes", default="pair,index")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = load_corpus(args.corpus, limit=args.pairs)
    result: dict[str, object] = {
        "benchmark": "pan",
        "corpus": args.corpus.name,
        "subsets": [short(s) for s in corpus.subsets],
        "pairs_per_subset": args.pairs,
    }
    result.update(run(corpus, args.modes.split(",")))
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
