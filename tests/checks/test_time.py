"""Time rules: embargoes in the publisher's IANA time zone (daylight time included), and
'take down after N days'."""

from __future__ import annotations

import pytest

from tests.checks.test_checks import BODY, ORIGINAL, SourceArticle, judge, make_page

SUMMER = SourceArticle(url=ORIGINAL, title="T", text=BODY, published="2025-07-10T15:00:00-06:00")
WINTER = SourceArticle(url=ORIGINAL, title="T", text=BODY, published="2025-01-10T15:00:00-07:00")


@pytest.mark.parametrize(
    ("source", "copy_time", "passed"),
    [
        (SUMMER, "2025-07-11T00:30:00-06:00", True),  # 00:30 the next day, daylight time
        (SUMMER, "2025-07-10T23:30:00-06:00", False),
        (SUMMER, "2025-07-11T06:30:00Z", True),
        (WINTER, "2025-01-11T00:30:00-07:00", True),
        (WINTER, "2025-01-10T23:30:00-07:00", False),
        (SUMMER, "2025-07-11T00:30:00", True),  # a naive time is read in the zone
    ],
)
def test_next_day_embargo_in_the_publishers_time_zone(
    source: SourceArticle, copy_time: str, passed: bool
) -> None:
    f = judge(
        "embargo",
        make_page(published=copy_time),
        source=source,
        not_before="next_day",
        time_zone="America/Denver",
    )
    assert f.passed is passed, f.evidence


def test_the_originals_own_date_shown_on_the_copy_is_not_its_publication_time() -> None:
    """A date-only guess from the page text that is the original's date is the dateline kept
    with the story: not judged. The same date in the copy's own markup is judged."""

    def embargo(**fields: str) -> tuple[bool, str]:
        f = judge(
            "embargo",
            make_page(**fields),
            source=SUMMER,
            not_before="next_day",
            time_zone="America/Denver",
        )
        return f.passed, f.message

    unknown = (
        True,
        "the only date on the page is the original's own or earlier; the copy's time is "
        "unknown; not judged",
    )
    assert embargo(published="2025-07-10") == unknown
    assert embargo(published="2025-07-09") == unknown  # a copy cannot predate its original
    assert embargo(published="2025-07-10", markup_published="2025-07-10") == (
        False,
        "published before the embargo ended",
    )


def test_a_fixed_offset_gets_daylight_time_wrong_which_is_why_zones_exist() -> None:
    f = judge(
        "embargo",
        make_page(published="2025-07-11T00:30:00-06:00"),
        source=SUMMER,
        not_before="next_day",
        utc_offset="-07:00",
    )
    assert f.passed is False


def test_retention_take_down_after_n_days() -> None:
    page = make_page(published="2025-03-01T10:00:00+00:00")  # fetched 2025-03-05T10:00Z
    assert judge("retention", page, max_days=7).passed is True
    late = judge("retention", page, max_days=3)
    assert (late.passed, late.message) == (False, "still online more than 3 days after publication")
    assert late.evidence == (
        "published 2025-03-01T10:00:00+00:00; still online 2025-03-05T10:00:00+00:00; "
        "to be taken down by 2025-03-04T10:00+00:00"
    )
    unknown = judge("retention", make_page(), max_days=3)
    assert unknown.passed is True
