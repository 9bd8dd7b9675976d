"""Checks on hostile pages: work linear in the page size (the markup is read a bounded number
of times, however often an ad network's name repeats), bounded site profiles, and the same
answers as before on ordinary pages."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from test_checks import judge, make_page

MB = 1024 * 1024
AD = '<script src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>'


class CountingStr(str):
    """A str that counts the characters its find and rfind calls cover."""

    scanned = 0

    def _count(self, start: Any, end: Any) -> None:
        lo = 0 if start is None else start if start >= 0 else len(self) + start
        hi = len(self) if end is None else end if end >= 0 else len(self) + end
        CountingStr.scanned += max(hi - lo, 0)

    def rfind(self, sub: Any, start: Any = None, end: Any = None) -> int:
        self._count(start, end)
        return super().rfind(sub, start, end)

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        self._count(start, end)
        return super().find(sub, start, end)


def _ads_page(n_bytes: int, *, ad: bool) -> str:
    filler = "doubleclick.net " * (n_bytes // 16)
    return f"<html><body><p>{filler}</p>{AD if ad else ''}</body></html>"


def test_non_commercial_reads_a_page_of_repeated_ad_names_a_bounded_number_of_times() -> None:
    # 1 MB: before, each of the 65,000 mentions scanned the page back to its start (63 s at
    # 3 MB); now each stretch of markup is looked at once per pattern.
    html = CountingStr(_ads_page(MB, ad=True))
    page = make_page(html=str(html))
    page = dataclasses.replace(page, html=html)  # the counting string itself
    CountingStr.scanned = 0
    finding = judge("non_commercial", page)
    assert (finding.passed, finding.evidence) == (False, "ad network: doubleclick.net")
    assert CountingStr.scanned < 4 * len(html)


def test_non_commercial_on_a_large_page_without_ads_in_markup_passes() -> None:
    page = make_page(html=_ads_page(MB, ad=False))
    assert judge("non_commercial", page).passed is True


def _old_in_markup(html: str, low: str, pos: int) -> bool:
    """The definition the check used before (rfind back from each match): the reference."""
    if html.rfind("<", 0, pos) > html.rfind(">", 0, pos):
        return True
    return low.rfind("<script", 0, pos) > low.rfind("</script", 0, pos)


def test_the_markup_cursor_answers_as_the_old_definition() -> None:
    rng = random.Random(12)
    pieces = ["<", ">", "<script", "</script", "<SCRIPT>", "x", " ", "doubleclick.net", "<p>"]
    from xpostcheck.checks.commercial import _Markup

    for _ in range(300):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        low = html.lower()
        cursor = _Markup(html, low)
        positions = sorted({rng.randint(0, len(html)) for _ in range(10)})
        got = [cursor.inside(p) for p in positions]
        assert got == [_old_in_markup(html, low, p) for p in positions], html
