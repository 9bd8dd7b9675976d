"""Feed and sitemap parsers: exact entries, gzip, and refusal of XML bombs, XXE and non-feeds."""

from __future__ import annotations

import gzip

import pytest

from xpostcheck.errors import SourceError, XPostCheckError
from xpostcheck.pages.feeds import FeedEntry, looks_like_feed, parse_feed
from xpostcheck.pages.sitemaps import (
    SitemapEntry,
    looks_like_sitemap,
    parse_sitemap,
    parse_sitemap_entries,
)

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS}>
  <url><loc>https://news.example/2024/ferry-cuts</loc><lastmod>2024-03-01</lastmod></url>
  <url><loc> /2024/library-hours </loc></url>
  <url><loc>mailto:editor@news.example</loc></url>
</urlset>""".encode()
INDEX = f"""<?xml version="1.0"?>
<sitemapindex {NS}>
  <sitemap><loc>https://news.example/sitemap-2024.xml.gz</loc></sitemap>
  <sitemap><loc>https://news.example/sitemap-2023.xml</loc></sitemap>
</sitemapindex>""".encode()


def test_sitemap_pages_and_lastmod() -> None:
    assert parse_sitemap_entries(URLSET, "https://news.example/sitemap.xml") == (
        [
            SitemapEntry("https://news.example/2024/ferry-cuts", "2024-03-01"),
            SitemapEntry("https://news.example/2024/library-hours", None),
        ],
        [],
    )


def test_sitemap_index_and_gzip() -> None:
    assert parse_sitemap(gzip.compress(INDEX), "https://news.example/sitemap.xml") == (
        [],
        ["https://news.example/sitemap-2024.xml.gz", "https://news.example/sitemap-2023.xml"],
    )
    assert parse_sitemap(gzip.compress(URLSET), "https://news.example/s.xml.gz")[0] == [
        "https://news.example/2024/ferry-cuts",
        "https://news.example/2024/library-hours",
    ]


def test_text_sitemap() -> None:
    data = b"https://news.example/a\n\nhttps://news.example/b\n"
    assert parse_sitemap(data, "https://news.example/sitemap.txt") == (
        ["https://news.example/a", "https://news.example/b"],
        [],
    )


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<urlset><url><loc>https://x.example/&lol3;</loc></url></urlset>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://x.example/&xxe;</loc></url></urlset>"""


@pytest.mark.parametrize("doc", [BOMB, XXE, gzip.compress(BOMB)])
def test_xml_bombs_and_xxe_are_refused(doc: bytes) -> None:
    with pytest.raises(SourceError) as err:
        parse_sitemap(doc, "https://x.example/sitemap.xml")
    assert str(err.value) == (
        "https://x.example/sitemap.xml: sitemap declares XML entities "
        "(a possible XML bomb or XXE); refused"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"<html><body>Not found</body></html>", "not a sitemap (no <urlset> or <sitemapindex>)"),
        (b"hello world\n", "not a sitemap: line 1 is neither XML nor an http(s) URL"),
        (b"\x1f\x8b\x08\x00garbage", "broken gzip data in sitemap"),
    ],
)
def test_non_sitemaps_raise_a_named_error(doc: bytes, message: str) -> None:
    with pytest.raises(XPostCheckError) as err:
        parse_sitemap(doc, "https://x.example/s.xml")
    assert str(err.value).startswith(f"https://x.example/s.xml: {message}")


def test_gzip_sitemap_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (70 * 1024 * 1024) + b"</urlset>")
    assert len(bomb) < 200_000
    with pytest.raises(SourceError) as err:
        parse_sitemap(bomb, "https://x.example/s.xml.gz")
    assert "larger than 64 MB once uncompressed" in str(err.value)


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>The Ledger</title><link>https://ledger.example/</link>
<item>
  <title>Ferry schedule cut</title>
  <link>/news/ferry</link>
  <dc:creator>Ana Ruiz</dc:creator>
  <pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
  <description>Short summary.</description>
  <content:encoded><![CDATA[<p>Full text of the ferry story.</p>]]></content:encoded>
</item>
<item><title>No link at all</title><description>x</description></item>
<item><title>Library</title><guid>https://ledger.example/news/library</guid>
  <description>&lt;p&gt;Only a summary&lt;/p&gt;</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbor</title>
<entry><title>Dredging delayed</title>
  <link rel="alternate" href="https://harbor.example/dredging"/>
  <author><name>Lee Park</name></author><author><name>Sam Oduya</name></author>
  <updated>2024-02-10T08:00:00Z</updated>
  <summary>Sum</summary>
</entry></feed>"""


def test_rss_feed_entries() -> None:
    assert parse_feed(RSS, "https://ledger.example/feed.xml") == [
        FeedEntry(
            url="https://ledger.example/news/ferry",
            title="Ferry schedule cut",
            authors=("Ana Ruiz",),
            published="2024-03-05T08:30:00Z",
            html="<p>Full text of the ferry story.</p>",
        ),
        FeedEntry(
            url="https://ledger.example/news/library",
            title="Library",
            html="<p>Only a summary</p>",
        ),
    ]


def test_atom_feed_entries() -> None:
    assert parse_feed(ATOM, "https://harbor.example/atom") == [
        FeedEntry(
            url="https://harbor.example/dredging",
            title="Dredging delayed",
            authors=("Lee Park", "Sam Oduya"),
            published="2024-02-10T08:00:00Z",
            html="Sum",
        )
    ]


def test_not_a_feed_raises_source_error() -> None:
    with pytest.raises(SourceError) as err:
        parse_feed(b"<html><body><p>A page</p></body></html>", "https://x.example/page")
    assert err.value.where == "https://x.example/page"
    assert "not an RSS or Atom feed" in str(err.value)


def test_sniffers() -> None:
    assert looks_like_feed(RSS) and looks_like_feed(ATOM)
    assert looks_like_feed(b"\xef\xbb\xbf  <rdf:RDF xmlns:rdf='x'>")
    assert not looks_like_feed(URLSET) and not looks_like_feed(b"<html><feed>")
    assert looks_like_sitemap(URLSET) and looks_like_sitemap(gzip.compress(INDEX))
    assert not looks_like_sitemap(RSS) and not looks_like_sitemap(b"https://a.example/\n")
