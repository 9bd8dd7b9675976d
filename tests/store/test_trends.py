"""Trends per site: `Store.site_trend(host)` over several scans, through the protocol only."""

from __future__ import annotations

from dataclasses import replace

from test_contract import OTHER, PAGE, T1, T2, T3, a_copy, a_report, check, fetched, scan

from xpostcheck.models import SkipCode, Skipped
from xpostcheck.store import Store
from xpostcheck.store.base import SiteTrend

__all__ = ["store"]

from test_contract import store  # noqa: E402  (the fixture of every backend)


def test_site_trend_counts_copies_violations_new_and_resolved(store: Store) -> None:
    link = check("link", "link_to_original", False)
    elsewhere = replace(a_copy("http://other.example/p"), site="other.example")
    r1 = scan(store, a_report(T1, a_copy(PAGE, link), elsewhere), fetched())
    r2 = scan(
        store,
        a_report(T2, a_copy(PAGE, link), a_copy(OTHER, check("c", "copyright", False))),
        fetched(at=T2),
        fetched(OTHER, at=T2),
    )
    r3 = scan(
        store,
        a_report(T3, skipped=(Skipped(PAGE, "HTTP 410 Gone", SkipCode.GONE),)),
    )
    ids = [r.scan.scan_id for r in (r1, r2, r3)]
    assert all(isinstance(i, int) for i in ids)
    assert store.site_trend("blog.example") == [
        SiteTrend(ids[2], T3, 0, 0, 0, 2),  # no copies any more: both open findings resolved
        SiteTrend(ids[1], T2, 2, 2, 1, 0),  # the library page is a new violation
        SiteTrend(ids[0], T1, 1, 1, 1, 0),
    ]
    assert store.site_trend("BLOG.example.", limit=1) == [SiteTrend(ids[2], T3, 0, 0, 0, 2)]
    assert store.site_trend("other.example") == [
        SiteTrend(ids[2], T3, 0, 0, 0, 1),
        SiteTrend(ids[0], T1, 1, 1, 1, 0),  # scan 2 neither saw it nor resolved it
    ]
    assert store.site_trend("never.example") == []
