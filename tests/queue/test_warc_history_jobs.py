"""`scan --warc ... --queue` takes part in history as the in-process scan does: real
`xpostcheck worker` processes, a throwaway PostgreSQL server (`pg_url`) as both the queue and
the store, WARC files of our own pages with their capture times (tests/warcdated.py).

Month 1: one archive holds the site with its copies. Month 2: two other files (the posts in
one, the other pages in the other, so two jobs) hold the same pages, one copy taken down: its
findings are resolved, the copy still there is ongoing, and the pre-filter's counts are
summed over the files. The same sequence in one process, on SQLite, gives the same history.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from qweb import Workers, finished, in_thread
from warcdated import FEB, JAN, SITE, TAKEN_DOWN, write_archive
from warcfix import articles, queued_settings, site_pages

from xpostcheck.models import PrefilterCounts, Report
from xpostcheck.pipeline.warcscan import run_warc_scan

_names = itertools.count()
TWO = SITE + "/posts/two.html"
THREE = SITE + "/posts/three.html"


@pytest.fixture()
def queue_db(pg_url: str) -> str:
    from tests.pgserver import create_database

    return create_database(pg_url, f"h{os.getpid()}_{next(_names)}")


def _history(report: Report) -> tuple[Any, ...]:
    """What history made of a report: each failed check with new/first-seen (the first
    seen as 'the first scan' or not, since the two runs start at other times), the
    resolved findings, and the pre-filter's counts."""
    failing = sorted(
        (c.url, c.source_url, f.rule, f.new)
        for c in report.copies
        for f in c.checks
        if not f.passed
    )
    resolved = sorted((r.url, r.source_url, r.rule) for r in report.resolved)
    return failing, resolved, report.scan.prefilter


def test_queued_archive_scans_resolve_and_carry_findings_as_in_process(
    tmp_path: Path, queue_db: str
) -> None:
    pages = site_pages(articles())
    jan = write_archive(tmp_path / "2026-01.warc.gz", pages, JAN)
    later = {**pages, "/posts/two.html": TAKEN_DOWN}
    posts = {p: b for p, b in later.items() if p.startswith("/posts/")}
    rest = {p: b for p, b in later.items() if not p.startswith("/posts/")}
    feb = [
        write_archive(tmp_path / "2026-02-posts.warc.gz", posts, FEB),
        write_archive(tmp_path / "2026-02-rest.warc.gz", rest, FEB),
    ]
    # in one process, on SQLite
    ref_db = str(tmp_path / "ref.db")
    ref1 = run_warc_scan(queued_settings(tmp_path, ref_db, [jan]), [str(jan)]).report
    ref2 = run_warc_scan(queued_settings(tmp_path, ref_db, feb), [str(f) for f in feb]).report

    workers = Workers(queue_db, queue_db, tmp_path)
    workers.start(2)
    try:
        thread, out = in_thread(queued_settings(tmp_path, queue_db, [jan]), queue_db)
        first = finished(thread, out, workers).report
        thread, out = in_thread(queued_settings(tmp_path, queue_db, feb), queue_db)
        second = finished(thread, out, workers).report
    finally:
        codes = workers.stop()
    assert codes == [0, 0], workers.logs()

    # month 1: every violation new; month 2: the copy taken down resolved, the other ongoing
    two_failing = {(s, r) for u, s, r, _ in _history(first)[0] if u == TWO}
    assert two_failing and all(new for *_, new in _history(first)[0])
    assert _history(second)[1] == sorted((TWO, s, r) for s, r in two_failing)
    three = [(u, s, r, new) for u, s, r, new in _history(second)[0] if u == THREE]
    assert three and not any(new for *_, new in three)
    seen = {f.first_seen for c in second.copies if c.url == THREE for f in c.checks if not f.passed}
    assert seen == {first.scan.started}
    assert second.exit_code("new") == 0
    # the pre-filter's counts: summed over the two files' jobs
    assert first.scan.prefilter == PrefilterCounts(len(pages), 3)
    assert second.scan.prefilter == PrefilterCounts(len(pages), 2)
    # and all of it as the in-process scans say
    assert _history(first) == _history(ref1)
    assert _history(second) == _history(ref2)
