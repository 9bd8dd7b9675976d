"""Alerts are delivered before they are committed (issue 12): a scan whose report could not be
written leaves its findings new for the next run, which says so. And a scan whose index lacks
another scan's article does not call that article's open violation resolved.

Real CLI scans (in-process, CliRunner) of a loopback site; the full disk is a small tmpfs that
the site fills while it is being crawled (after the report's folder was checked), or, where
mounting is not allowed, a report folder that vanishes during the crawl.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from loopback import Server

from xpostcheck.cli.main import main

PUB = "https://www.globalresearch.ca"
URL_1 = f"{PUB}/harbor-dredging/5800001"
URL_2 = f"{PUB}/library-sundays/5800002"
ARTICLE_1 = (
    "The harbor commission voted on Tuesday to dredge the north channel before the autumn "
    "storms arrive, ending two years of argument about cost and about the eelgrass beds.\n\n"
    "Fishing crews had asked for the work to begin in spring, when fewer boats use the channel, "
    "but the dredging contractor could not bring its barge north until late August this year.\n\n"
    "The commission chair said the vote was close and that night access for the crews would be "
    "reviewed each week while the channel stays closed to most traffic during the work."
)
ARTICLE_2 = (
    "The town library will open on Sundays from the first weekend of May, the trustees said "
    "after a year in which volunteers kept the reading room open on a trial basis.\n\n"
    "Volunteers will staff the front desk, and the children's room will host a story hour at "
    "eleven each Sunday morning for readers from three to seven years old.\n\n"
    "The trustees thanked the friends of the library, whose book sales paid for the extra heating "
    "and lighting that the longer opening hours will need through the winter."
)


def _page(title: str, text: str) -> bytes:
    """A copy with its credit and copyright line but no link to the original: a violation."""
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        f"<main><article><h1>{title}</h1>{paras}<p>The original source of this article is "
        f"Global Research</p><p>Copyright © Ana Ruiz, Global Research, 2024</p></article>"
        f"</main></body></html>"
    ).encode()


def _sources(path: Path, *articles: tuple[str, str, str]) -> Path:
    rows = (
        {"url": u, "title": t, "author": "Ana Ruiz", "published": "2024-03-02", "text": x}
        for u, t, x in articles
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def site() -> Iterator[tuple[str, dict[str, Callable[[], None]]]]:
    """A site of two copies, /a (of article 1) and /b (of article 2); `hooks[path]` runs
    before the page is answered."""
    hooks: dict[str, Callable[[], None]] = {}
    html = "text/html; charset=utf-8"

    def serve(path: str, body: bytes) -> Callable[[BaseHTTPRequestHandler], None]:
        def answer(request: BaseHTTPRequestHandler) -> None:
            if path in hooks:
                hooks.pop(path)()
            request.send_response(200)
            request.send_header("Content-Type", html)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return answer

    routes: dict[str, Any] = {
        "/": serve("/", b'<a href="/a">a</a> <a href="/b">b</a>'),
        "/a": serve("/a", _page("Harbor to be dredged", ARTICLE_1)),
        "/b": serve("/b", _page("Library Sundays", ARTICLE_2)),
        "/robots.txt": (404, {"Content-Type": "text/plain"}, b""),
    }
    with Server(routes) as server:
        yield server.base + "/", hooks


def _scan(site: str, sources: Path, db: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            "scan",
            site,
            "--sources",
            str(sources),
            "--rules",
            "globalresearch",
            "--db",
            str(db),
            "--delay",
            "0",
            "--workers",
            "1",
            "--recheck-after",
            "0",
            "--format",
            "json",
            *extra,
        ],
    )


def _new(report: dict[str, Any]) -> set[str]:
    """The pages with a new failed check."""
    return {
        c["url"].rsplit("/", 1)[1]
        for c in report["copies"]
        for f in c["checks"]
        if not f["passed"] and f.get("new")
    }


@contextlib.contextmanager
def _tiny_tmpfs(where: Path, wanted: bool) -> Iterator[bool]:
    """A 256 KiB tmpfs at `where` when wanted and this machine lets us mount one (root)."""
    where.mkdir()
    mount = shutil.which("mount")
    done = (
        wanted
        and mount is not None
        and os.geteuid() == 0
        and subprocess.run(
            [mount, "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield done
    finally:
        if done:
            subprocess.run(["umount", str(where)], check=True)


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


@pytest.mark.parametrize("failure", ["full disk", "folder gone"])
def test_a_report_that_could_not_be_written_leaves_its_findings_new(
    tmp_path: Path, site: tuple[str, dict[str, Callable[[], None]]], failure: str
) -> None:
    base, hooks = site
    sources = _sources(
        tmp_path / "s.jsonl",
        (URL_1, "Harbor to be dredged", ARTICLE_1),
        (URL_2, "Library Sundays", ARTICLE_2),
    )
    db = tmp_path / "x.db"
    with _tiny_tmpfs(tmp_path / "out", failure == "full disk") as mounted:
        out = tmp_path / "out"
        if failure == "full disk":
            if not mounted:
                pytest.skip("mounting a tmpfs needs root here")
            hooks["/b"] = lambda: _fill(out)
        else:
            hooks["/b"] = lambda: shutil.rmtree(out)
        failed = _scan(base, sources, db, "--fail-on", "new", "-o", str(out / "report.json"))
        assert failed.exit_code == 3, failed.output
        assert "cannot write the report" in failed.stderr
        assert "Traceback" not in failed.output

    # The next run still reports both violations as new, and says why.
    again = _scan(base, sources, db, "--fail-on", "new")
    assert again.exit_code == 1, again.output
    report = json.loads(again.stdout)
    assert _new(report) == {"a", "b"}
    stay = sum(not f["passed"] and f["new"] for c in report["copies"] for f in c["checks"])
    assert f"the last report was not delivered: {stay} findings stay new" in again.stderr
    # That report went out: the run after it finds nothing new, and says nothing about it.
    third = _scan(base, sources, db, "--fail-on", "new")
    assert third.exit_code == 0, third.output
    assert _new(json.loads(third.stdout)) == set()
    assert "not delivered" not in third.stderr


def test_an_index_without_the_other_scans_article_resolves_nothing_of_it(
    tmp_path: Path, site: tuple[str, dict[str, Callable[[], None]]]
) -> None:
    """Two scans of one database with different extra sources, each with an index that lacks
    the other's article (as when one overwrote the other's index): the second scan does not
    report the first one's open violation as resolved, although it looked at the page."""
    base, _hooks = site
    db = tmp_path / "x.db"
    only_1 = _sources(tmp_path / "one.jsonl", (URL_1, "Harbor to be dredged", ARTICLE_1))
    only_2 = _sources(tmp_path / "two.jsonl", (URL_2, "Library Sundays", ARTICLE_2))
    first = _scan(base, only_1, db, "--index", str(tmp_path / "one.index"))
    assert first.exit_code == 1, first.output
    assert _new(json.loads(first.stdout)) == {"a"}
    second = _scan(base, only_2, db, "--index", str(tmp_path / "two.index"))
    assert second.exit_code == 1, second.output
    report = json.loads(second.stdout)
    assert report["resolved"] == []
    assert _new(report) == {"b"}


def test_a_report_that_could_not_be_rendered_leaves_its_findings_new(
    tmp_path: Path, site: tuple[str, dict[str, Callable[[], None]]]
) -> None:
    """A report needs the archived page of a copy carried over unchanged; its WARC folder is
    away for a while: exit 2, and the new violation found by that scan is still new in the
    next one."""
    base, _hooks = site
    db = tmp_path / "x.db"
    only_1 = _sources(tmp_path / "one.jsonl", (URL_1, "Harbor to be dredged", ARTICLE_1))
    both = _sources(
        tmp_path / "both.jsonl",
        (URL_1, "Harbor to be dredged", ARTICLE_1),
        (URL_2, "Library Sundays", ARTICLE_2),
    )
    assert _scan(base, only_1, db).exit_code == 1
    evidence = tmp_path / "x-evidence"
    evidence.rename(tmp_path / "away")  # /a's archived page, which the HTML report shows
    # /a is carried over unchanged; /b is judged against the newly arrived article 2: new.
    html = _scan(base, both, db, "--format", "html", "-o", str(tmp_path / "r.html"))
    assert html.exit_code == 2, html.output
    assert "cannot read WARC evidence" in html.stderr
    assert "Traceback" not in html.output and not (tmp_path / "r.html").exists()
    for warc in (tmp_path / "away").iterdir():  # back: every scan reads it for carried copies
        warc.rename(evidence / warc.name)
    again = _scan(base, both, db, "--fail-on", "new")
    assert again.exit_code == 1, again.output
    assert _new(json.loads(again.stdout)) == {"b"}
    assert "the last report was not delivered" in again.stderr
