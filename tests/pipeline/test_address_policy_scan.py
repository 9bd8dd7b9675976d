"""A whole scan under the address policy: the named site's address is allowed on its own port
only, so a redirect to another local port, and the link check's shortlink resolution there,
never reach the canary server listening on it; `--allow-private` opens it on purpose."""

from __future__ import annotations

import html as htmllib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import Server, html

from xpostcheck.config import Settings, build_settings
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.errors import ConfigError, ScanFailed
from xpostcheck.models import SkipCode
from xpostcheck.pipeline.scan import run_scan


@pytest.fixture
def canary() -> Iterator[Server]:
    srv = Server({"/": html("<p>canary</p>"), "/s": (301, {"Location": "/x"}, b"")})
    yield srv
    srv.close()


@pytest.fixture
def site(canary: Server) -> Iterator[Server]:
    article = json.loads(ARTICLES.read_text(encoding="utf-8").splitlines()[0])
    body = "".join(f"<p>{htmllib.escape(p)}</p>" for p in article["text"].split("\n\n"))
    # The copy links to the canary (a short path on another port: the link check resolves it).
    copy = (
        f"<html><head><title>{htmllib.escape(article['title'])}</title></head><body><main>"
        f"<article><h1>{htmllib.escape(article['title'])}</h1>{body}"
        f'<p><a href="{canary.base}/s">Read the original</a></p></article></main></body></html>'
    )
    srv = Server({"/copy": html(copy), "/go": (302, {"Location": canary.base + "/"}, b"")})
    srv.routes["/"] = html(
        f'<p><a href="/copy">copy</a> <a href="/go">go</a> <a href="{canary.base}/">other</a></p>'
    )
    yield srv
    srv.close()


def _settings(site: Server, tmp_path: Path, **kw: object) -> Settings:
    values: dict[str, object] = {
        "sources": (str(ARTICLES),),
        "rules": str(RULES),
        "sites": (site.base + "/",),
        "db": str(tmp_path / "x.db"),
        "delay": 0.0,
        "workers": 1,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def test_a_named_site_never_reaches_another_port_of_its_address(
    site: Server, canary: Server, tmp_path: Path
) -> None:
    result = run_scan(_settings(site, tmp_path))
    assert canary.paths() == []
    assert sorted(site.paths()) == ["/", "/copy", "/go", "/robots.txt", "/sitemap.xml"]
    skipped = {k.url: (k.code, k.reason) for k in result.report.skipped}
    assert skipped[site.base + "/go"] == (
        SkipCode.ADDRESS_POLICY,
        f"refused: 127.0.0.1:{canary.port} is a non-public address that was not named; "
        f"to scan it, pass --allow-private 127.0.0.1:{canary.port}",
    )
    (copy,) = result.report.copies
    assert copy.url == site.base + "/copy"


def test_allow_private_opens_the_other_port(site: Server, canary: Server, tmp_path: Path) -> None:
    run_scan(_settings(site, tmp_path, allow_private=(f"127.0.0.1:{canary.port}",)))
    # the redirect's target; the shortlink and the hop it redirects to, after the host's
    # robots.txt (link checks go through the scan's politeness layer)
    assert sorted(canary.paths()) == ["/", "/robots.txt", "/s", "/x"]


def test_a_site_named_by_a_host_name_resolving_to_loopback_needs_the_flag(
    site: Server, tmp_path: Path
) -> None:
    named = f"http://localhost:{site.port}/"
    with pytest.raises(ScanFailed) as err:  # the only site refused: the scan failed
        run_scan(_settings(site, tmp_path, sites=(named,)))
    assert site.paths() == []
    assert str(err.value).startswith(f"no page could be fetched ({named}: robots.txt ")
    assert "refused: localhost resolves to non-public " in str(err.value)
    assert "; to scan it, pass --allow-private localhost)" in str(err.value)
    run_scan(_settings(site, tmp_path, sites=(named,), allow_private=("localhost",)))
    assert "/copy" in site.paths()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("host:x", "--allow-private 'host:x': the port must be a number from 1 to 65535"),
        ("http://h/", "--allow-private 'http://h/': give HOST or HOST:PORT, not a URL"),
    ],
)
def test_a_bad_allow_private_is_a_usage_error(value: str, message: str) -> None:
    flags = {"sources": ("s.jsonl",), "rules": "r", "sites": ("http://a/",)}
    with pytest.raises(ConfigError) as err:
        build_settings({}, {**flags, "allow_private": (value,)})
    assert str(err.value) == f"{message} (give HOST or HOST:PORT)"
    ok = build_settings({}, {**flags, "allow_private": ("[::1]:8080", "intranet")})
    assert ok.allow_private == ("[::1]:8080", "intranet")
