"""Sources: every spec kind, against a real loopback HTTP server and real files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import Server, refused_port

from xpostcheck.errors import SourceError
from xpostcheck.models import Fetched, SkipCode, Skipped, SourceArticle
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.sources.loader import describe_skipped, load_sources, load_sources_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "extract" / "sources"
SITE = FIXTURES / "site"
SAVED = FIXTURES / "saved"
TYPES = {".xml": "application/rss+xml", ".html": "text/html; charset=utf-8"}

SEAGRASS = [
    "Seagrass returns to Kell Bay",
    "Divers counting seagrass in Kell Bay found new meadows this spring for the first time in a "
    "decade, a sign that the cleanup of the river upstream is working.",
    "The meadows had vanished after years of farm runoff clouded the water. Volunteers have "
    "replanted shoots by hand since 2019, most of which died in the first summer.",
    "This year, the survey team mapped three patches that nobody planted, which scientists say "
    "means seeds are now drifting in and taking root on their own.",
]
FERRY = [
    "Ferry crossing cut",
    "The evening ferry to Maltby Island will stop running in October, the operator said, "
    "leaving islanders who work late on the mainland with no way home after six.",
    "The operator blamed a shortage of licensed crew and said it would restore the crossing "
    "once it had trained two new deckhands, which could take a year.",
    "Island councillors have asked the county to pay for a water taxi in the meantime, and say "
    "they will hold a public meeting on the cut next week.",
]


def _skip(url: str, reason: str, code: SkipCode = SkipCode.SOURCE) -> Skipped:
    """A source input the loader skipped: SkipCode.SOURCE, or the FetchError's code when our
    fetcher could not fetch it."""
    return Skipped(url, reason, code)


# A small PDF carrying a sentence of the seagrass story. Indexed as an article, its "text" was
# the raw PDF syntax.
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
    b"4 0 obj << /Length 60 >> stream\nBT /F1 12 Tf 72 712 Td ("
    + SEAGRASS[1].encode()
    + b") Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02" + b"\x00" * 64


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The fixture site, {{BASE}} replaced by the server's own URL, plus some pages that are
    not HTML."""
    with Server({}) as srv:
        for path in SITE.iterdir():
            body = path.read_text(encoding="utf-8").replace("{{BASE}}", srv.base).encode()
            srv.routes[f"/{path.name}"] = (200, {"Content-Type": TYPES[path.suffix]}, body)
        srv.routes["/"] = srv.routes["/index.html"]
        srv.routes["/report.pdf"] = (200, {"Content-Type": "application/pdf"}, PDF)
        srv.routes["/photo"] = (200, {"Content-Type": "image/png"}, PNG)
        srv.routes["/download"] = (200, {"Content-Type": "application/octet-stream"}, PDF)
        srv.routes["/pdf-as-html"] = (200, {"Content-Type": "text/html"}, PDF)
        srv.routes["/untyped-pdf"] = (200, {}, PDF)
        srv.routes["/untyped-png"] = (200, {}, PNG)
        yield srv


@pytest.fixture()
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"}), retries=0, deadline=10))
    yield f
    f.close()


def lines(text: str) -> list[str]:
    return text.splitlines()


# -- JSON Lines -------------------------------------------------------------------------------


def test_jsonl_text_html_authors_and_dedup(tmp_path: Path) -> None:
    html = (SITE / "ferry.html").read_text(encoding="utf-8").replace('"', '\\"').replace("\n", " ")
    src = tmp_path / "sources.jsonl"
    src.write_text(
        '{"url": "https://harborledger.example/a/", "title": "A", "author": "Ines Valdez", '
        '"published": "2024-01-02", "text": "Body of A."}\n'
        "\n"
        '{"url": "https://harborledger.example/b/", "author": ["Ada", "Tomas"], '
        '"text": "Body of B.", "images": ["https://harborledger.example/b.jpg"]}\n'
        f'{{"url": "https://harborledger.example/c/", "title": "Own title", "html": "{html}"}}\n'
        # The same article as the first, over http and with www: kept once, first wins.
        '{"url": "http://www.harborledger.example/a", "title": "dup", "text": "x"}\n',
        encoding="utf-8",
    )
    articles = load_sources([str(src)], publisher="Harbor Ledger")
    assert articles[:2] == [
        SourceArticle(
            url="https://harborledger.example/a/",
            title="A",
            text="Body of A.",
            authors=("Ines Valdez",),
            published="2024-01-02",
            publisher="Harbor Ledger",
        ),
        SourceArticle(
            url="https://harborledger.example/b/",
            title="",
            text="Body of B.",
            authors=("Ada", "Tomas"),
            publisher="Harbor Ledger",
            images=("https://harborledger.example/b.jpg",),
        ),
    ]
    third = articles[2]
    assert len(articles) == 3
    assert (third.url, third.title, third.authors, third.published) == (
        "https://harborledger.example/c/",
        "Own title",
        ("Tomas Reyes",),
        "2024-05-20",
    )
    assert lines(third.text) == FERRY


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"url": "u", "text": "t"}\n\n{"url": oops}\n',
            "{p}:3: not valid JSON (Expecting value); write one JSON object a line",
        ),
        ('{"title": "t", "text": "t"}\n', "{p}:1: missing 'url' (the original article's address)"),
        ('{"url": "u"}\n', "{p}:1: missing 'text' or 'html' (the article's body)"),
        (
            '{"url": "u", "text": "t", "author": 5}\n',
            "{p}:1: 'author' must be a string or a list of strings",
        ),
        (
            '["u", "t"]\n',
            "{p}:1: expected a JSON object {{url, title, author, published, text|html}}, got list",
        ),
        (
            "\n\n",
            "{p}: no articles: the JSON Lines file is empty; write one "
            '{{"url": ..., "title": ..., "text": ...}} object a line',
        ),
    ],
    ids=["bad-json", "no-url", "no-body", "bad-author", "not-object", "empty"],
)
def test_jsonl_errors_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "sources.jsonl"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources([str(src)])
    assert str(err.value) == message.format(p=src)


def test_jsonl_records_without_a_body_are_skipped_naming_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "sources.jsonl"
    records = [
        {"url": "https://hl.example/a", "text": "Body of A."},
        {"url": "https://hl.example/blank", "text": "  \n\t "},
        {"url": "https://hl.example/empty", "text": ""},
        {"url": "https://hl.example/both", "text": " ", "html": ""},
        {"url": "https://hl.example/chrome", "html": "<html><body><nav> </nav></body></html>"},
        {"url": "https://hl.example/html", "text": "", "html": "<p>Body of the html one.</p>"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    articles, skipped = load_sources_report([str(src)])
    assert [(a.url, a.text) for a in articles] == [
        ("https://hl.example/a", "Body of A."),
        ("https://hl.example/html", "Body of the html one."),
    ]
    assert skipped == [
        _skip("https://hl.example/blank", f"no article text: 'text' is empty ({src}:2)"),
        _skip("https://hl.example/empty", f"no article text: 'text' is empty ({src}:3)"),
        _skip("https://hl.example/both", f"no article text: 'text' and 'html' are empty ({src}:4)"),
        _skip("https://hl.example/chrome", f"no article text found in 'html' ({src}:5)"),
    ]


def test_describe_skipped_gives_the_first_reasons() -> None:
    skipped = [
        _skip("a.jsonl", "no article text: 'text' is empty (a.jsonl:3)"),
        _skip("https://x.example/feed", "HTTP 404 Not Found"),
        _skip("https://x.example/r.pdf", "not an HTML page: application/pdf"),
        _skip("https://x.example/b", "connection refused"),
        _skip("https://x.example/c", "connection refused"),
    ]
    assert describe_skipped(skipped) == (
        "a.jsonl: no article text: 'text' is empty (a.jsonl:3); "
        "https://x.example/feed: HTTP 404 Not Found; "
        "https://x.example/r.pdf: not an HTML page: application/pdf (and 2 more)"
    )
    assert describe_skipped(skipped[:2], limit=2) == (
        "a.jsonl: no article text: 'text' is empty (a.jsonl:3); "
        "https://x.example/feed: HTTP 404 Not Found"
    )
    assert describe_skipped([]) == ""
    long = describe_skipped([_skip("u", "cannot fetch (" + "x " * 300 + ")")], limit=1)
    assert long.startswith("u: cannot fetch (x x ")
    assert long.endswith("…")
    assert len(long) == len("u: ") + 200


def test_no_article_read_leaves_reasons_to_show(tmp_path: Path) -> None:
    """Every source unreadable: nothing raised, and the reasons say why, per file and line."""
    src = tmp_path / "a.jsonl"
    src.write_text('{"url": "https://hl.example/a", "text": " "}\n', encoding="utf-8")
    urls = tmp_path / "urls.txt"
    urls.write_text("https://hl.example/feed\n", encoding="utf-8")

    def fetch(url: str) -> Fetched:
        return Fetched(url, url, 404, (), b"", "", "utf-8", "")

    articles, skipped = load_sources_report([str(src), str(urls)], fetch=fetch)
    assert articles == []
    assert describe_skipped(skipped) == (
        f"https://hl.example/a: no article text: 'text' is empty ({src}:1); "
        "https://hl.example/feed: HTTP 404"
    )


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "sources.jsonl"
    src.write_bytes(b'{"url": "u", "text": "ok"}\n{"url": "u2", "text": "caf\xe9"}\n')
    with pytest.raises(SourceError) as err:
        load_sources([str(src)])
    assert str(err.value) == f"{src}:2: not UTF-8 text; save the file as UTF-8"


def test_missing_file_says_what_to_give(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError) as err:
        load_sources([str(missing)])
    assert str(err.value) == (
        f"{missing}: no such file or folder; give a JSON Lines file, an RSS/Atom feed, a "
        "sitemap, a text file of article URLs, a folder of saved HTML pages, or an http(s) URL"
    )
    assert err.value.exit_code == 2


# -- URL lists --------------------------------------------------------------------------------


def test_url_list_fetches_each_and_keeps_failures(
    tmp_path: Path, server: Server, fetcher: Fetcher
) -> None:
    base = server.base
    src = tmp_path / "urls.txt"
    src.write_text(
        f"# the publisher's articles\n\n{base}/seagrass.html\n"
        f"  {base}/ferry.html   # trailing comment\n{base}/gone.html\n{base}/seagrass.html\n",
        encoding="utf-8",
    )
    articles, skipped = load_sources_report([str(src)], fetch=fetcher.fetch, publisher="HL")
    assert [a.url for a in articles] == [f"{base}/seagrass.html", f"{base}/ferry.html"]
    seagrass, ferry = articles
    assert lines(seagrass.text) == SEAGRASS
    assert seagrass.authors == ("Ines Valdez",)
    assert seagrass.published == "2024-04-11T06:00:00Z"
    assert seagrass.images == (
        f"{base}/img/seagrass.jpg",
        "https://harborledger.example/img/seagrass-og.jpg",
    )
    assert seagrass.publisher == "HL"
    assert (ferry.title, ferry.authors, ferry.published) == (
        "Ferry crossing cut",
        ("Tomas Reyes",),
        "2024-05-20",
    )
    assert skipped == [_skip(f"{base}/gone.html", "HTTP 404 Not Found", SkipCode.GONE)]


def test_url_list_bad_line(tmp_path: Path) -> None:
    src = tmp_path / "urls.txt"
    src.write_text("https://ok.example/a\nftp://files.example/b\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources([str(src)], fetch=lambda url: pytest.fail("must not fetch"))
    assert str(err.value) == (
        f"{src}:2: not an http(s) URL: 'ftp://files.example/b'; a URL list holds one article "
        "URL a line (# starts a comment); otherwise give a JSON Lines file, an RSS/Atom feed, "
        "a sitemap, a text file of article URLs, a folder of saved HTML pages, or an http(s) URL"
    )


def test_url_list_without_fetcher_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "urls.txt"
    src.write_text("https://ok.example/a\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources([str(src)])
    assert str(err.value) == (
        "https://ok.example/a: this source must be fetched over the network, but no fetcher "
        "was given; run it through `xpostcheck scan` or pass fetch="
    )


def test_unreachable_url_is_skipped_not_raised(fetcher: Fetcher) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}/feed.xml"
        articles, skipped = load_sources_report([url], fetch=fetcher.fetch)
    assert articles == []
    assert skipped == [_skip(url, "connection refused", SkipCode.REFUSED)]


def test_fetch_function_errors_and_statuses_are_skipped(tmp_path: Path) -> None:
    src = tmp_path / "urls.txt"
    src.write_text("https://a.example/x\nhttps://b.example/y\n", encoding="utf-8")

    def fetch(url: str) -> Fetched:
        if "a.example" in url:
            raise OSError("connection reset")
        return Fetched(url, url, 410, (), b"", "", "utf-8", "")

    articles, skipped = load_sources_report([str(src)], fetch=fetch)
    assert articles == []
    assert skipped == [
        _skip("https://a.example/x", "cannot fetch (connection reset)"),
        _skip("https://b.example/y", "HTTP 410"),
    ]


def test_pages_that_are_not_html_are_skipped(server: Server, fetcher: Fetcher) -> None:
    """Given as source URLs (fetched whatever their type, since a feed or sitemap may hide
    behind any URL), a PDF, an image or a download is refused, not indexed as an article."""
    base = server.base
    urls = [
        f"{base}/report.pdf",
        f"{base}/photo",
        f"{base}/download",
        f"{base}/pdf-as-html",
        f"{base}/untyped-pdf",
        f"{base}/untyped-png",
        f"{base}/ferry.html",
    ]
    articles, skipped = load_sources_report(urls, fetch=fetcher.fetch)
    assert [a.url for a in articles] == [f"{base}/ferry.html"]
    assert skipped == [
        _skip(f"{base}/report.pdf", "not an HTML page: application/pdf"),
        _skip(f"{base}/photo", "not an HTML page: image/png"),
        _skip(f"{base}/download", "not an HTML page: application/octet-stream"),
        _skip(f"{base}/pdf-as-html", "not an HTML page: a PDF file served as text/html"),
        _skip(f"{base}/untyped-pdf", "not an HTML page: a PDF file"),
        _skip(f"{base}/untyped-png", "not an HTML page: a binary body"),
    ]


def test_url_list_of_pdfs_through_any_fetch_function(tmp_path: Path) -> None:
    """A fetch function other than ours does not refuse non-HTML bodies itself."""
    src = tmp_path / "urls.txt"
    src.write_text(
        "https://hl.example/report\nhttps://hl.example/annual.pdf\nhttps://hl.example/a\n",
        encoding="utf-8",
    )
    page = (SITE / "ferry.html").read_bytes()
    bodies = {
        "https://hl.example/report": ((("Content-Type", "application/pdf"),), PDF),
        "https://hl.example/annual.pdf": ((), PDF),
        "https://hl.example/a": ((("Content-Type", "text/html; charset=utf-8"),), page),
    }

    def fetch(url: str) -> Fetched:
        headers, body = bodies[url]
        return Fetched(url, url, 200, headers, body, body.decode("latin-1"), "latin-1", "")

    articles, skipped = load_sources_report([str(src)], fetch=fetch)
    assert [(a.url, lines(a.text)) for a in articles] == [("https://hl.example/a", FERRY)]
    assert skipped == [
        _skip("https://hl.example/report", "not an HTML page: application/pdf"),
        _skip("https://hl.example/annual.pdf", "not an HTML page: a PDF file"),
    ]


def test_utf16_html_is_not_mistaken_for_binary() -> None:
    html = "<html><body><article><p>" + " ".join(FERRY[1:]) + "</p></article></body></html>"
    body = html.encode("utf-16")

    def fetch(url: str) -> Fetched:
        return Fetched(url, url, 200, (("Content-Type", "text/html"),), body, html, "utf-16", "")

    articles, skipped = load_sources_report(["https://hl.example/ferry"], fetch=fetch)
    assert skipped == []
    assert [a.url for a in articles] == ["https://hl.example/ferry"]


# -- feeds ------------------------------------------------------------------------------------


def test_feed_url_full_content_and_fetched_summaries(server: Server, fetcher: Fetcher) -> None:
    base = server.base
    articles, skipped = load_sources_report([f"{base}/feed.xml"], fetch=fetcher.fetch)
    wells, ferry = articles
    # Full content in the feed: used as is, not fetched.
    assert wells.url == "https://harborledger.example/2024/02/wells/"
    assert (wells.title, wells.authors, wells.published) == (
        "Nitrate found in valley wells",
        ("Ada Lindqvist",),
        "2024-02-13T09:00:00Z",
    )
    assert wells.text.startswith("The county tested water from forty private wells")
    assert wells.text.endswith("The county board will vote on the testing plan in March.")
    assert wells.images == ("https://harborledger.example/img/well.jpg",)
    # A summary only: the page is fetched; the feed's metadata wins over the page's.
    assert ferry.url == f"{base}/ferry.html"
    assert (ferry.title, ferry.authors, ferry.published) == (
        "Ferry crossing cut (feed title)",
        ("T. Reyes",),
        "2024-05-20T07:30:00Z",
    )
    assert lines(ferry.text) == FERRY
    assert skipped == [_skip(f"{base}/gone.html", "HTTP 404 Not Found", SkipCode.GONE)]


def test_feed_file_without_fetcher_keeps_summaries_it_can(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        (SITE / "feed.xml").read_text(encoding="utf-8").replace("{{BASE}}", "https://hl.example"),
        encoding="utf-8",
    )
    articles, skipped = load_sources_report([str(feed)])
    assert [(a.url, a.text[:40]) for a in articles] == [
        ("https://harborledger.example/2024/02/wells/", "The county tested water from forty priva"),
        ("https://hl.example/ferry.html", "The evening ferry to Maltby Island will "),
        ("https://hl.example/gone.html", "Short teaser."),
    ]
    assert skipped == []


def test_home_page_url_reads_the_feed_it_names(server: Server, fetcher: Fetcher) -> None:
    base = server.base
    articles, skipped = load_sources_report([f"{base}/"], fetch=fetcher.fetch)
    assert [a.url for a in articles] == [
        "https://harborledger.example/2024/02/wells/",
        f"{base}/ferry.html",
    ]
    assert skipped == [_skip(f"{base}/gone.html", "HTTP 404 Not Found", SkipCode.GONE)]


def test_home_page_without_feed_is_skipped() -> None:
    html = "<html><head><title>Home</title></head><body><p>Welcome</p></body></html>"

    def fetch(url: str) -> Fetched:
        return Fetched(url, url, 200, (), html.encode(), html, "utf-8", "")

    articles, skipped = load_sources_report(["https://nofeed.example/"], fetch=fetch)
    assert articles == []
    assert skipped == [
        _skip(
            "https://nofeed.example/",
            "a home page, not an article, and it names no feed; "
            "give the site's feed or sitemap URL",
        )
    ]


# -- sitemaps ---------------------------------------------------------------------------------


def test_sitemap_index_url(server: Server, fetcher: Fetcher) -> None:
    base = server.base
    articles, skipped = load_sources_report([f"{base}/sitemap_index.xml"], fetch=fetcher.fetch)
    assert [a.url for a in articles] == [f"{base}/seagrass.html", f"{base}/ferry.html"]
    assert lines(articles[0].text) == SEAGRASS
    assert skipped == [
        _skip(f"{base}/gone.html", "HTTP 404 Not Found", SkipCode.GONE),
        _skip(f"{base}/sitemap-missing.xml", "HTTP 404 Not Found", SkipCode.GONE),
    ]


def test_gzip_sitemap_file(tmp_path: Path, server: Server, fetcher: Fetcher) -> None:
    xml = (SITE / "sitemap-news.xml").read_text(encoding="utf-8").replace("{{BASE}}", server.base)
    path = tmp_path / "sitemap.xml.gz"
    path.write_bytes(gzip.compress(xml.encode()))
    articles = load_sources([str(path)], fetch=fetcher.fetch)
    assert [a.url for a in articles] == [
        f"{server.base}/seagrass.html",
        f"{server.base}/ferry.html",
    ]


def test_article_page_url(server: Server, fetcher: Fetcher) -> None:
    articles = load_sources([f"{server.base}/ferry.html"], fetch=fetcher.fetch)
    assert [(a.url, lines(a.text)) for a in articles] == [(f"{server.base}/ferry.html", FERRY)]


# -- saved pages ------------------------------------------------------------------------------


def test_folder_of_saved_pages() -> None:
    articles, skipped = load_sources_report([str(SAVED)], publisher="Harbor Ledger")
    by_url = {a.url: a for a in articles}
    fees = (SAVED / "nested" / "fees.html.gz").resolve().as_uri()
    assert list(by_url) == [
        "https://harborledger.example/2024/05/ferry/",  # og:url
        fees,  # neither canonical nor og:url
        "https://harborledger.example/2024/04/seagrass/",  # canonical
    ]
    seagrass = by_url["https://harborledger.example/2024/04/seagrass/"]
    assert lines(seagrass.text) == SEAGRASS
    # Relative images resolve against the page's own URL, not the file.
    assert seagrass.images == (
        "https://harborledger.example/img/seagrass.jpg",
        "https://harborledger.example/img/seagrass-og.jpg",
    )
    assert lines(by_url[fees].text)[0] == "Harbour fees rise"
    assert skipped == [
        _skip(
            str(SAVED / "nested" / "broken.html.gz"),
            "broken gzip file (Error -3 while decompressing data: invalid stored block lengths)",
        )
    ]


def test_single_saved_page_file() -> None:
    articles = load_sources([str(SAVED / "seagrass.html")])
    assert [a.url for a in articles] == ["https://harborledger.example/2024/04/seagrass/"]


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources([str(tmp_path)])
    assert str(err.value).startswith(
        f"{tmp_path}: the folder holds no saved pages (*.html, *.htm, *.html.gz); "
    )


def test_several_specs_deduplicate_across_kinds(tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text(
        '{"url": "https://harborledger.example/2024/04/seagrass", "title": "from jsonl", '
        '"text": "t"}\n',
        encoding="utf-8",
    )
    articles = load_sources([str(src), str(SAVED / "seagrass.html")])
    assert [(a.url, a.title) for a in articles] == [
        ("https://harborledger.example/2024/04/seagrass", "from jsonl")
    ]
