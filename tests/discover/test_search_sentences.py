"""Which sentences a search run asks for: rare words, verbatim, no bylines, credits,
notices, short lines or boilerplate shared by the publisher's articles."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from searchfake import ARTICLES, NOTICE

from xpostcheck.discover.search.sentences import (
    SentencePicker,
    pick_queries,
    split_sentences,
)
from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import tokenize

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "realweb"


def _articles() -> list[SourceArticle]:
    return [
        SourceArticle(url=a["url"], title=a["title"], text=a["text"], authors=(a["author"],))
        for a in ARTICLES
    ]


def test_split_sentences_on_ends_and_paragraphs() -> None:
    text = 'He said "stop." Then left!\nA new paragraph without a stop\nAnd 東京です。次の文'
    assert split_sentences(text) == [
        'He said "stop."',
        "Then left!",
        "A new paragraph without a stop",
        "And 東京です。",
        "次の文",
    ]


def test_queries_are_the_rare_prose_of_each_article() -> None:
    picked = pick_queries(_articles(), 3)
    assert {url: [q.text for q in queries] for url, queries in picked.items()} == {
        ARTICLES[0]["url"]: [
            "basalt skerry of Fennick Rock, two keepers still wind the clockwork lens by hand "
            "every evening before the ferries cross",
            "Keeper Ilse Brandvold keeps a logbook of every storm since the winter the "
            "breakwater split, written in pencil because ink",
            "lighthouse board wanted automation in 1998, but the islanders petitioned the "
            "county council with four thousand signatures and a cormorant",
        ],
        ARTICLES[1]["url"]: [
            "Ashwell weir have built bristle-lined ladders so that translucent glass eels can "
            "climb past the sluice gates in early",
            "the estuary trust measured the brackish plume with a homemade conductivity probe "
            "soldered from a bicycle dynamo and salvaged copper",
        ],
        ARTICLES[2]["url"]: [
            # the opening's best comes first: excerpts copy the opening
            "Commuters from Skelmorlie Quay say the winter timetable strands night-shift nurses "
            "on the mainland whenever the catamaran is swapped",
            "minutes from November record a heated exchange about diesel surcharges, tidal "
            "windows and a forgotten promise to repaint the waiting",
        ],
    }
    for article in ARTICLES:
        for query in picked[article["url"]]:
            assert query.text in article["text"]  # verbatim: a copy carries it word for word
            assert len(query.text.split()) <= 20


def test_bylines_credits_notices_and_short_lines_are_never_asked() -> None:
    texts = {q.text for qs in pick_queries(_articles(), 10).values() for q in qs}
    banned = ("By ", "Photo", "Subscribe", "It is cold", "Counts rose", "operator disagrees")
    assert not [t for t in texts if t.startswith(banned)]
    assert not [t for t in texts if t in NOTICE or NOTICE.startswith(t)]


def test_a_sentence_every_article_shares_is_boilerplate_even_without_a_keyword() -> None:
    shared = "Our correspondents traverse windswept archipelagos gathering remarkable testimony."
    articles = [
        SourceArticle(url=f"https://p.example/{i}", title="t", text=f"{shared}\n{body}")
        for i, body in enumerate(
            [
                "Quarrymen excavated enormous granite blocks beneath the abandoned chapel.",
                "Beekeepers relocated forty hives after unseasonal flooding drowned clover.",
            ]
        )
    ]
    picked = pick_queries(articles, 3)
    assert [q.text for q in picked["https://p.example/0"]] == [
        "Quarrymen excavated enormous granite blocks beneath the abandoned chapel"
    ]
    assert [q.text for q in picked["https://p.example/1"]] == [
        "Beekeepers relocated forty hives after unseasonal flooding drowned clover"
    ]


def test_rarity_across_the_publishers_articles_decides() -> None:
    common = "the harbour council met again to discuss the harbour ferry and harbour fees today"
    rare = "a narwhal tusk auctioned secretly in Reykjavik fetched astonishing sums from collectors"
    others = [
        SourceArticle(url=f"https://p.example/o{i}", title="t", text=common.replace("today", w))
        for i, w in enumerate(["monday", "tuesday", "friday"])
    ]
    target = SourceArticle(url="https://p.example/t", title="t", text=f"{common}.\n{rare}.")
    picker = SentencePicker([*others, target])
    assert [q.text for q in picker.candidates(target)] == [rare, common]
    assert picker.weight("the") == 0.0
    assert picker.weight("narwhal") > picker.weight("harbour")


def test_an_article_without_prose_gets_no_query() -> None:
    article = SourceArticle(url="https://p.example/x", title="t", text="Short.\nBy Someone Else")
    assert pick_queries([article], 3) == {"https://p.example/x": []}


def test_invisible_characters_and_double_quotes_leave_the_query() -> None:
    text = (
        "The mayor called the \u201cdisgraceful\u201d Vladi\u00admir report a "
        '"total fabrication" of harbour statistics.'
    )
    article = SourceArticle(url="https://p.example/q", title="t", text=text)
    (query,) = pick_queries([article], 1)["https://p.example/q"]
    assert '"' not in query.text and "\u201c" not in query.text and "\u00ad" not in query.text
    assert "Vladimir report a total fabrication of harbour statistics" in query.text


def test_real_articles_each_give_distinctive_queries() -> None:
    path = CORPUS / "articles.json.gz"
    if not path.exists():
        pytest.skip(f"the realweb corpus is missing at {CORPUS}")
    data = json.loads(gzip.decompress(path.read_bytes()))
    articles = [
        SourceArticle(
            url=f"https://pub.example/{key}",
            title=value["title"],
            text="\n".join(p[1] for p in value["paras"]),
            authors=(value["byline"],) if value.get("byline") else (),
        )
        for key, value in data.items()
    ]
    picked = pick_queries(articles, 3)
    by_url = {a.url: a for a in articles}
    assert sum(1 for qs in picked.values() if len(qs) == 3) >= 0.9 * len(articles)
    for url, queries in picked.items():
        for query in queries:
            assert 8 <= len(tokenize(query.text)) <= 20
            text = by_url[url].text.replace("\u00ad", "")
            plain = " ".join(re.sub('["\u201c\u201d]', " ", text).split())
            assert query.text in plain
            assert "http" not in query.text and "©" not in query.text
