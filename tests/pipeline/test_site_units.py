"""The per-site pipeline's seams: units, begin / scan_site / finish, what a crawl loads before it
starts, and page texts read only when a report format asks for them.

Real scans against loopback sites (tests/loopback.py) with a real SQLite file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import Route, Server, html

from xpostcheck.config import Settings
from xpostcheck.demo.web import load_corpus
from xpostcheck.pipeline import site as site_module
from xpostcheck.pipeline.scan import (
    SiteUnit,
    begin,
    finish,
    index_path_for,
    run_scan,
    scan_site,
    units_of,
)
from xpostcheck.pipeline.texts import PageTexts
from xpostcheck.store.sqlite import SqliteStore

GR = "https://www.globalresearch.ca"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        f"<main><article><h1>{title}</h1>{body}</article></main></body></html>"
    )


def _copy_of(record: dict[str, Any]) -> str:
    return _page(record["title"], "".join(f"<p>{p}</p>" for p in record["text"].split("\n\n")))


@pytest.fixture()
def corpus() -> list[dict[str, Any]]:
    return [
        {**record, "url": f"{GR}/{slug}/5{i}1234"}
        for i, (slug, record) in enumerate(load_corpus().items())
    ]


def _settings(tmp_path: Path, corpus: list[dict[str, Any]], sites: tuple[str, ...]) -> Settings:
    sources = tmp_path / "sources.jsonl"
    sources.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    return Settings(
        sources=(str(sources),),
        rules="globalresearch",
        sites=sites,
        db=str(tmp_path / "x.db"),
        delay=0.0,
        workers=1,
        timeout=5.0,
    )


def _site(corpus_page: str, home_route: Route | None = None) -> Server:
    routes: dict[str, Route] = {
        "/": home_route or html(_page("Home", '<a href="/copy">A story</a>')),
        "/copy": html(corpus_page),
    }
    return Server(routes)


def test_units_group_what_one_crawl_would_share() -> None:
    sites = ["https://a.example/", "https://www.a.example/blog", "https://b.example:8080/"]
    urls = ["https://a.example/one", "https://b.example/other-port", "https://c.example/x"]
    assert units_of(sites, urls) == [
        SiteUnit(("https://a.example/", "https://www.a.example/blog"), ("https://a.example/one",)),
        SiteUnit(("https://b.example:8080/",), ()),
        SiteUnit((), ("https://b.example/other-port", "https://c.example/x")),
    ]
    assert units_of([], []) == []


def test_index_path_is_kept_beside_a_sqlite_database() -> None:
    assert index_path_for(Settings(db="scans/x.db")) == "scans/x.db.index"
    assert index_path_for(Settings(db="scans/x.db", index="i.idx")) == "i.idx"
    assert index_path_for(Settings(db="postgresql://h/db")) == ""


def test_begin_scan_site_finish_one_site_at_a_time(
    tmp_path: Path, corpus: list[dict[str, Any]]
) -> None:
    with _site(_copy_of(corpus[0])) as one, _site(_copy_of(corpus[1])) as two:
        settings = _settings(tmp_path, corpus, (one.base + "/", two.base + "/"))
        scan = begin(settings)
        try:
            units = units_of(settings.sites, settings.urls)
            results = [scan_site(scan, unit) for unit in units]
            # Each unit's copies are judged by the unit itself, before finish.
            assert [[c.url for c in r.copies] for r in results] == [
                [one.base + "/copy"],
                [two.base + "/copy"],
            ]
            assert all(c.checks for r in results for c in r.copies)
            assert [r.fetched for r in results] == [2, 2]
            result = finish(scan, results)
        finally:
            scan.close()
    assert len(result.report.copies) == 2
    assert result.report.scan.pages_fetched == 4
    assert set(result.context.pages) == {one.base + "/copy", two.base + "/copy"}


def test_a_sites_copies_are_judged_before_another_sites_crawl_ends(
    tmp_path: Path, corpus: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = threading.Event()
    released: list[bool] = []
    real_judge = site_module.judge_copies

    def judge(*args: Any, **kwargs: Any) -> Any:
        copies = real_judge(*args, **kwargs)
        judged.set()
        return copies

    def slow_home(h: BaseHTTPRequestHandler) -> None:
        released.append(judged.wait(10))  # held until the other site's copies are judged
        body = _page("Home", "<p>Nothing copied here.</p>").encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    monkeypatch.setattr(site_module, "judge_copies", judge)
    with _site(_copy_of(corpus[0])) as fast, Server({"/": slow_home}) as slow:
        result = run_scan(_settings(tmp_path, corpus, (slow.base + "/", fast.base + "/")))
    assert released == [True]
    assert [c.url for c in result.report.copies] == [fast.base + "/copy"]


def _threads_calling_the_store(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    names: set[str] = set()
    for name in ("page_state", "page_states", "previous_copies", "page_text", "sources_since"):
        method: Callable[..., Any] = getattr(SqliteStore, name)

        def spy(self: SqliteStore, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            names.add(threading.current_thread().name)
            return _method(self, *args, **kwargs)

        monkeypatch.setattr(SqliteStore, name, spy)
    return names


def test_the_crawl_threads_never_call_the_store(
    tmp_path: Path, corpus: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with _site(_copy_of(corpus[0])) as one:
        settings = _settings(tmp_path, corpus[1:], (one.base + "/",))
        assert run_scan(settings).report.copies == ()
        # A newer source: the unchanged pages' kept texts are matched against it, before the
        # crawl, and the page that copies it is analysed again.
        (tmp_path / "sources.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8"
        )
        names = _threads_calling_the_store(monkeypatch)
        second = run_scan(settings)
    assert second.report.scan.pages_unchanged == 1
    assert [c.url for c in second.report.copies] == [one.base + "/copy"]
    assert names
    assert not {n for n in names if n.startswith(("xpostcheck-crawl", "xpostcheck-fetch"))}


def test_page_texts_extract_a_carried_page_only_when_asked() -> None:
    archived = _page("Kept", "<p>" + "A page kept from an earlier scan. " * 20 + "</p>")
    texts = PageTexts({"https://a.example/new": "new text"}, {"https://a.example/kept": archived})
    assert texts == {"https://a.example/new": "new text"}  # nothing extracted yet
    assert "https://a.example/kept" not in texts
    kept = texts.get("https://a.example/kept")
    assert kept is not None and "kept from an earlier scan" in kept
    assert texts["https://a.example/kept"] == kept
    assert set(texts) == {"https://a.example/new", "https://a.example/kept"}
    assert texts.get("https://a.example/none") is None
    with pytest.raises(KeyError):
        texts["https://a.example/none"]
