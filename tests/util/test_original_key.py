"""original_key: the AMP, mobile and print forms of an article name the article itself."""

from __future__ import annotations

import pytest

from xpostcheck.util.urls import original_key

ART = "https://www.globalresearch.ca/who-tried/5760001"


@pytest.mark.parametrize(
    "url",
    [
        ART,
        ART + "/",
        ART + "/amp",
        ART + "/amp/",
        ART + "?amp=1",
        ART + "?amp",
        ART + "?outputType=amp",
        ART + "/print",
        ART + "?print=1",
        ART + "?view=print",
        ART + "#comments",
        ART + "?utm_source=twitter&fbclid=x",
        "https://www.globalresearch.ca/amp/who-tried/5760001",
        "https://m.globalresearch.ca/who-tried/5760001",
        "https://amp.globalresearch.ca/who-tried/5760001",
        "http://globalresearch.ca/who-tried/5760001",
        "https://www-globalresearch-ca.cdn.ampproject.org/c/s/www.globalresearch.ca/who-tried/5760001/amp",
    ],
)
def test_forms_of_the_article_are_the_article(url: str) -> None:
    assert original_key(url) == "globalresearch.ca/who-tried/5760001"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.globalresearch.ca/who-tried/5760002",
        "https://www.globalresearch.ca/amp",  # the AMP home page is not the article
        "https://www.globalresearch.ca/who-tried/5760001?page=2",
        "https://m.co/who-tried/5760001",  # a two-label host is not a mobile twin
        "https://www-other-ca.cdn.ampproject.org/c/s/www.other.ca/who-tried/5760001",
    ],
)
def test_other_pages_stay_other_pages(url: str) -> None:
    assert original_key(url) != "globalresearch.ca/who-tried/5760001"
