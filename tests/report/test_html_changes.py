"""The HTML report marks the words changed inside a passage, not only the passage (issue 11)."""

from __future__ import annotations

from dataclasses import replace

from tests.report.test_report import sample_context, sample_report
from xpostcheck.models import Passage
from xpostcheck.report.base import RenderContext
from xpostcheck.report.formats import FORMATS
from xpostcheck.report.html import Segment, changed_words, highlight, mark_changed

SOURCE = "Intro. The council voted on Tuesday to rebuild the old harbour wall. End."
PAGE = "Blog: the council voted on Monday to rebuild the harbour wall again. Bye."


def _passage() -> Passage:
    return Passage(
        SOURCE.index("The"), SOURCE.index(". End"), PAGE.index("the"), PAGE.index(". Bye")
    )


def test_changed_words_on_each_side() -> None:
    in_source, on_page = changed_words(SOURCE, PAGE, [_passage()])
    assert [SOURCE[a:b] for a, b in in_source] == ["Tuesday", "old"]
    assert [PAGE[a:b] for a, b in on_page] == ["Monday", "again"]


def test_marked_segments_are_split_at_the_changes() -> None:
    p = _passage()
    _, on_page = changed_words(SOURCE, PAGE, [p])
    segments = mark_changed(highlight(PAGE, [(p.page_start, p.page_end)]), on_page)
    assert segments == [
        Segment("Blog: ", None),
        Segment("the council voted on ", 1),
        Segment("Monday", 1, changed=True),
        Segment(" to rebuild the harbour wall ", 1),
        Segment("again", 1, changed=True),
        Segment(". Bye.", None),
    ]
    assert "".join(s.text for s in segments) == PAGE
    assert mark_changed([Segment("plain", None)], [(0, 3)]) == [Segment("plain", None)]


def test_the_html_report_marks_changed_words() -> None:
    report = sample_report()
    copy = replace(report.copies[0], passages=(_passage(),))
    source = replace(sample_context().sources[copy.source_url], text=SOURCE)
    ctx = RenderContext(sources={copy.source_url: source}, pages={copy.url: PAGE})
    html = FORMATS["html"].render(replace(report, copies=(copy,)), ctx)
    assert '<mark data-p="1" class="changed" title="changed in the copy">Monday</mark>' in html
    assert '<mark data-p="1" class="changed" title="changed in the copy">Tuesday</mark>' in html
    assert '<mark data-p="1">the council voted on </mark>' in html
