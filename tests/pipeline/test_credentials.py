"""Credentials in the URLs a user gives are taken out before anything is sent, stored, logged or
reported: a real `xpostcheck scan` process per report format, then every byte it left behind
(reports, database, index, WARC files, stderr) is searched for the password."""

from __future__ import annotations

import gzip
import html as htmllib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import Server, html

from xpostcheck.config import build_settings
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.models import Copy, Fetched, Report, ScanInfo, SkipCode, Skipped
from xpostcheck.report.formats import FORMATS, RenderContext
from xpostcheck.store.evidence import http_block
from xpostcheck.util.urls import mask_password, redact_credentials, strip_credentials

PASSWORD = "s3cr3tpw"


@pytest.fixture
def site() -> Iterator[Server]:
    article = json.loads(ARTICLES.read_text(encoding="utf-8").splitlines()[0])
    body = "".join(f"<p>{htmllib.escape(p)}</p>" for p in article["text"].split("\n\n"))
    copy = f"<html><body><main><article><h1>Copy</h1>{body}</article></main></body></html>"
    srv = Server({"/": html('<p><a href="/copy">copy</a></p>'), "/copy": html(copy)})
    yield srv
    srv.close()


def _every_byte(folder: Path) -> bytes:
    """Every file under `folder`, gzip members undone (WARC files are gzip)."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            out.append(data)
    return b"\n".join(out)


@pytest.mark.parametrize("fmt", ["json", "html", "csv", "table"])
def test_a_password_in_a_site_url_is_nowhere(site: Server, tmp_path: Path, fmt: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    secret_site = f"http://user:{PASSWORD}@127.0.0.1:{site.port}/"
    cmd = [
        sys.executable,
        "-m",
        "xpostcheck",
        "scan",
        secret_site,
        "--url",
        f"http://other:{PASSWORD}@127.0.0.1:{site.port}/copy",
        "--sources",
        str(ARTICLES),
        "--rules",
        str(RULES),
        "--db",
        str(work / "x.db"),
        "-f",
        fmt,
        "-o",
        str(work / f"report.{fmt}"),
        "--delay",
        "0",
        "--workers",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, timeout=120, check=False, cwd=work)
    assert done.returncode == 1, done.stderr.decode()
    assert (work / "x.db").exists() and (work / f"report.{fmt}").exists()
    assert list(work.rglob("*.warc.gz")), "the copy's evidence was archived"
    assert "/copy" in (work / f"report.{fmt}").read_text(encoding="utf-8")
    stderr = done.stderr.decode()
    assert f"http://user:***@127.0.0.1:{site.port}/: the credentials in this URL" in stderr
    assert stderr.count("the credentials in this URL are not used or kept") == 2
    for where, data in [
        ("files", _every_byte(work)),
        ("stdout", done.stdout),
        ("stderr", done.stderr),
    ]:
        assert PASSWORD.encode() not in data, where
    assert all("Authorization" not in headers for _, _, headers in site.log)


def test_sources_and_sites_files_lose_their_credentials(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text(f"https://a:{PASSWORD}@blog.example/\n", encoding="utf-8")
    settings = build_settings(
        {},
        {
            "sources": (f"https://u:{PASSWORD}@feeds.example/rss", "local.jsonl"),
            "rules": "r",
            "sites_file": str(sites),
            "urls": (f"http://b:{PASSWORD}@[::1]:81/p",),
        },
    )
    assert settings.sources == ("https://feeds.example/rss", "local.jsonl")
    assert settings.sites == ("https://blog.example/",)
    assert settings.urls == ("http://[::1]:81/p",)


@pytest.mark.parametrize(
    ("url", "stripped", "masked"),
    [
        ("http://u:pw@h:8/a?b#c", "http://h:8/a?b#c", "http://u:***@h:8/a?b#c"),
        ("http://u@h/", "http://h/", "http://u@h/"),
        ("http://u:p@ss@h/x@y", "http://h/x@y", "http://u:***@h/x@y"),
        ("http://h/a@b", "http://h/a@b", "http://h/a@b"),
        ("https://[::1]:8/", "https://[::1]:8/", "https://[::1]:8/"),
    ],
)
def test_strip_and_mask(url: str, stripped: str, masked: str) -> None:
    assert strip_credentials(url) == stripped
    assert mask_password(url) == masked


def test_redact_credentials_in_free_text() -> None:
    text = 'see http://u:pw@h/a and <a href="https://x:p@ss@h2:8/?q=a@b">, mailto:me@h, a@b'
    assert redact_credentials(text) == (
        'see http://h/a and <a href="https://h2:8/?q=a@b">, mailto:me@h, a@b'
    )
    assert (
        redact_credentials("a.b." * 50_000 + "c://" * 50_000) == "a.b." * 50_000 + "c://" * 50_000
    )


def test_the_warc_header_block_loses_credentials_in_a_location() -> None:
    fetched = Fetched(
        url="http://h/",
        final_url="http://h/",
        status=301,
        headers=(("Location", f"http://u:{PASSWORD}@h2/"),),
        body=b"",
        text="",
        encoding="",
        fetched_at="2026-01-01T00:00:00+00:00",
        raw_headers_block=f"HTTP/1.1 301 Moved\r\nLocation: http://u:{PASSWORD}@h2/\r\n\r\n".encode(),
    )
    assert http_block(fetched) == b"HTTP/1.1 301 Moved\r\nLocation: http://h2/\r\n\r\n"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_report_format_shows_credentials_it_is_handed(fmt: str) -> None:
    """The defence of last resort: a report holding a URL with credentials (a page that linked
    to one, say) renders without them."""
    copy = Copy(
        url=f"http://u:{PASSWORD}@blog.example/copy",
        site="blog.example",
        source_url=f"https://v:{PASSWORD}@news.example/a",
        coverage=1.0,
        kind="full",
        verdict="compliant",
        passages=(),
        checks=(),
    )
    report = Report(
        scan=ScanInfo(
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:01:00+00:00",
            1,
            1,
            sites=(f"http://u:{PASSWORD}@blog.example/",),
        ),
        copies=(copy,),
        skipped=(Skipped(f"http://w:{PASSWORD}@blog.example/x", "HTTP 404", SkipCode.GONE),),
    )
    text = FORMATS[fmt].render(report, RenderContext())
    assert PASSWORD not in text
    assert "blog.example" in text
