"""Two reports of one event share quotations and names without copying each other; a copy
of a report that quotes much is still a copy (xpostcheck/match/evidence.py).

The articles here are made up for these tests. The corpus test reads the Zyte article
benchmark: its articles come from many outlets, some on the same events (two reports of one
court case, one earnings report, one tour announcement), and none of them republishes
another except where they share a long run of their own words.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from xpostcheck.match import MatchConfig, SourceIndex
from xpostcheck.match.align import align
from xpostcheck.match.evidence import quotation_ids
from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import tokenize

ZYTE = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "zyte-article-benchmark"

SOURCE = "\n\n".join(
    (
        "A Harlow County jury on Thursday found former water district treasurer Dana "
        "Whitcombe guilty of diverting $412,000 from the district's reserve fund over six "
        "years, the Harlow County District Attorney's Office said.",
        "Whitcombe, 58, of Fenwick, was convicted on four counts of grand larceny and two "
        "counts of falsifying business records after a nine-day trial. She faces up to 15 "
        "years in prison when she is sentenced on March 3.",
        "Prosecutors told jurors that Whitcombe moved money from the reserve account into a "
        "consulting firm she controlled, then covered the transfers with invoices for pipe "
        "inspections that never took place.",
        '"The people of this district trusted her with money meant to keep their water safe, '
        'and she treated it as her own," District Attorney Miriam Okafor said in a statement '
        'after the verdict. "Today the jury held her to account."',
        "Defense attorney Paul Renard said his client would appeal. \"We respect the jury's "
        "work, but we believe the evidence about the consulting contracts was misread from "
        'the start," Renard said outside the courthouse.',
        "The district's board has since hired an outside auditor and moved its accounts to a "
        "new bank. Rates rose by 9 percent last year in part to rebuild the reserve, "
        "according to district records.",
        'Board chair Tomas Lindqvist said the board would seek restitution. "Every dollar '
        'that was taken belongs to the ratepayers, and we intend to get it back," he said.',
    )
)

# Another outlet's report of the same verdict: the same names, numbers and quotations, in
# its own words.
INDEPENDENT = "\n\n".join(
    (
        "Jurors in Harlow County convicted Dana Whitcombe, the former treasurer of the local "
        "water district, on Thursday of siphoning $412,000 from the district's reserves, "
        "ending a nine-day trial.",
        "The 58-year-old Fenwick resident was found guilty of grand larceny and of falsifying"
        " business records. Sentencing is set for March 3, and she could receive as many as "
        "15 years behind bars.",
        "According to prosecutors, the money went to a consulting company Whitcombe ran, and "
        "she disguised the payments as pipe inspection invoices for work nobody ever did.",
        "District Attorney Miriam Okafor said the verdict mattered to every household on the "
        'system. "The people of this district trusted her with money meant to keep their '
        'water safe, and she treated it as her own," Okafor said.',
        "Renard, her lawyer, told reporters an appeal would follow. \"We respect the jury's "
        "work, but we believe the evidence about the consulting contracts was misread from "
        'the start," he said.',
        "Since the arrest, the board has brought in an outside auditor and switched banks. "
        "Customers saw a 9 percent rate increase last year, partly to refill the reserve.",
        '"Every dollar that was taken belongs to the ratepayers, and we intend to get it '
        'back," said Tomas Lindqvist, who chairs the board.',
    )
)

PUBLISHER = "https://harlow-ledger.example/news/treasurer-verdict"


def _index() -> SourceIndex:
    index = SourceIndex(MatchConfig())
    index.add([SourceArticle(url=PUBLISHER, title="Treasurer guilty", text=SOURCE)])
    index.flush()
    return index


def test_quotations_are_read_from_their_marks() -> None:
    text = (
        '“Curly,” she said. "Straight ones" too, and ‘single’ ones; '
        "an apostrophe in don’t or readers’ quotes nothing.\n"
        "\"A mark left open at a line's end\nquotes nothing on the next line."
    )
    tokens = tokenize(text)
    ids = quotation_ids(text, tokens.starts)
    quoted = {
        int(n): " ".join(
            text[s:e] for s, e, i in zip(tokens.starts, tokens.ends, ids, strict=True) if i == n
        )
        for n in np.unique(ids[ids > 0])
    }
    assert quoted == {1: "Curly", 2: "Straight ones", 3: "single"}


def test_an_independent_report_of_the_same_event_is_not_a_copy() -> None:
    assert _index().match(INDEPENDENT) == []


def test_only_the_evidence_rule_keeps_the_independent_report_from_being_a_copy() -> None:
    """The alignment joins the two reports from end to end (the same facts in the same
    order, paraphrased), and the shared quotations are over a fifth of the matched words,
    with runs of more than ten tokens: the rule before quotations and names were set aside
    (a fifth of the words in verbatim runs, one run of ten tokens) reported a full copy. So
    the test above could fail."""
    found = align(SOURCE, INDEPENDENT)
    assert found.coverage > 0.9
    tokens = tokenize(SOURCE)
    ids = quotation_ids(SOURCE, tokens.starts)
    quotes = [re.search(r'"([^"]+)"', p) for p in SOURCE.split("\n\n")]
    shared = [q.group(1) for q in quotes if q and q.group(1) in INDEPENDENT]
    assert len(shared) == 3
    assert max(len(tokenize(q)) for q in shared) > 10
    assert int((ids > 0).sum()) > 0.2 * found.matched_words


def test_a_copy_of_a_report_that_quotes_much_is_still_a_copy() -> None:
    index = _index()
    paragraphs = SOURCE.split("\n\n")
    # Only the paragraphs with quotations, as an excerpt: every run crosses a quotation's
    # edge into its attribution ("Renard said outside the courthouse").
    quoting = "\n\n".join(p for p in paragraphs if '"' in p)
    page = f"Community news\n\n{quoting}\n\nMore from our partners"
    found = index.match(page)
    assert [m.source_url for m in found] == [PUBLISHER]
    whole = index.match(f"Republished with permission.\n\n{SOURCE}")
    assert [(m.source_url, m.kind) for m in whole] == [(PUBLISHER, "full")]


def _shared_run(a: str, b: str, words: int) -> bool:
    """Whether two texts share a run of ``words`` identical words."""

    def grams(text: str) -> set[tuple[str, ...]]:
        w = re.findall(r"\w+", text.casefold())
        return {tuple(w[i : i + words]) for i in range(len(w) - words + 1)}

    return bool(grams(a) & grams(b))


def test_reports_from_other_outlets_in_the_zyte_benchmark_are_not_copies() -> None:
    if not (ZYTE / "ground-truth.json").exists():
        pytest.skip(f"Zyte article benchmark not found at {ZYTE}")
    truth = json.loads((ZYTE / "ground-truth.json").read_text(encoding="utf-8"))
    texts = {
        item["url"]: item["articleBody"]
        for item in truth.values()
        if len(item.get("articleBody", "").split()) >= 50
    }
    index = SourceIndex(MatchConfig())
    index.add(SourceArticle(url=url, title="", text=text) for url, text in texts.items())
    index.flush()
    reported = {
        (url, m.source_url)
        for url, text in texts.items()
        for m in index.match(text)
        if m.source_url != url
    }
    # A pair that shares 40 words in a row shares text (a company's boilerplate paragraph);
    # every other pair is two outlets writing on their own.
    accused = sorted((a, b) for a, b in reported if not _shared_run(texts[a], texts[b], 40))
    assert accused == []
    assert len(texts) >= 170
