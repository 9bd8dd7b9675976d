"""Fetcher against real loopback servers: redirects, the address policy, conditional requests,
encodings, retries, freshness. The misbehaving servers are in test_hostile.py."""

from __future__ import annotations

import gzip
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

import brotli
import pytest
import requests
import trustme
from loopback import Server, html, refused_port

from xpostcheck.errors import FetchError
from xpostcheck.models import SkipCode
from xpostcheck.net.cache import cache_directives, conditional_headers, freshness_lifetime, is_fresh
from xpostcheck.net.decode import decode_body
from xpostcheck.net.fetch import FetchConfig, Fetcher, HTTPStatusError, _describe
from xpostcheck.net.headers import parse_retry_after
from xpostcheck.net.policy import AddressPolicy


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server({})
    yield srv
    srv.close()


def fetcher_for(*servers: Server, **kw: Any) -> Fetcher:
    return Fetcher(FetchConfig(allowed_hosts=frozenset(s.host for s in servers), **kw))


def test_fetch_html_page(server: Server) -> None:
    server.routes["/a"] = (
        200,
        {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'},
        "<html><body><p>Grüße</p></body></html>".encode(),
    )
    f = fetcher_for(server, contact="ops@example.org")
    got = f.fetch(server.base + "/a")
    assert (got.status, got.final_url, got.redirects) == (200, server.base + "/a", ())
    assert got.text == "<html><body><p>Grüße</p></body></html>"
    assert got.encoding == "utf-8"
    assert got.header("etag") == '"v1"'
    assert got.raw_headers_block.startswith(b"HTTP/1.1 200 OK\r\n")
    assert got.raw_headers_block.endswith(b"\r\n\r\n")
    assert len(got.content_hash) == 64
    agent = server.log[0][2]["User-Agent"]
    assert agent.startswith("xpostcheck/") and agent.endswith("; ops@example.org)")
    f.close()


def test_conditional_request_gives_304(server: Server) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("ETag", '"v1"')
            h.end_headers()
        else:
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "7")
            h.end_headers()
            h.wfile.write(b"<p>x</p>"[:7])

    server.routes["/p"] = route
    f = fetcher_for(server)
    got = f.fetch(server.base + "/p", etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert (got.status, got.body, got.unchanged) == (304, b"", True)
    assert server.log[0][2]["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert f.fetch(server.base + "/p").status == 200


def test_redirects_followed_by_hand(server: Server) -> None:
    server.routes["/a"] = (301, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": server.base + "/c?x=1"}, b"")
    server.routes["/c"] = html("<p>c</p>")
    got = fetcher_for(server).fetch(server.base + "/a")
    assert got.final_url == server.base + "/c?x=1"
    assert got.redirects == (server.base + "/a", server.base + "/b")
    assert got.text == "<p>c</p>"


def test_redirect_loop_and_too_many_redirects(server: Server) -> None:
    server.routes["/l1"] = (302, {"Location": "/l2"}, b"")
    server.routes["/l2"] = (302, {"Location": "/l1"}, b"")
    for i in range(10):
        server.routes[f"/r{i}"] = (302, {"Location": f"/r{i + 1}"}, b"")
    f = fetcher_for(server)
    with pytest.raises(FetchError) as loop:
        f.fetch(server.base + "/l1")
    assert loop.value.reason == f"redirect loop (2 hops, back to {server.base}/l1)"
    with pytest.raises(FetchError) as many:
        f.fetch(server.base + "/r0")
    assert many.value.reason == "more than 5 redirects"
    assert server.paths().count("/r6") == 0  # gave up after /r5 answered


@pytest.mark.parametrize("target_host", ["127.0.0.2", "localhost"])
def test_redirect_to_unnamed_loopback_host_is_refused(server: Server, target_host: str) -> None:
    other = Server({"/secret": html("<p>internal</p>")}, host="127.0.0.2")
    try:
        server.routes["/go"] = (302, {"Location": f"http://{target_host}:{other.port}/secret"}, b"")
        with pytest.raises(FetchError) as err:
            fetcher_for(server).fetch(server.base + "/go")
        assert "refused" in err.value.reason and target_host in err.value.reason
        assert "; to scan it, pass --allow-private " in err.value.reason
        assert other.paths() == []
    finally:
        other.close()


def test_unnamed_loopback_host_is_never_requested(server: Server) -> None:
    server.routes["/"] = html("<p>hi</p>")
    with pytest.raises(FetchError) as err:
        Fetcher().fetch(server.base + "/")
    assert err.value.reason == (
        f"refused: 127.0.0.1:{server.port} is a non-public address that was not named; "
        f"to scan it, pass --allow-private 127.0.0.1:{server.port}"
    )
    assert server.paths() == []


def test_address_policy_checks_every_resolved_address() -> None:
    policy = AddressPolicy(frozenset({"127.0.0.1"}))
    assert policy.check_host("127.0.0.1", 80) is None
    assert (policy.check_host("localhost", 80) or "").startswith(
        "refused: localhost resolves to non-public "
    )
    assert policy.ip_allowed("example.org", "10.1.2.3") is False
    assert policy.ip_allowed("example.org", "169.254.169.254") is False
    assert policy.ip_allowed("example.org", "::ffff:127.0.0.1") is False
    assert policy.ip_allowed("example.org", "93.184.215.14") is True
    assert AddressPolicy(frozenset({"intranet"})).ip_allowed("intranet", "10.1.2.3") is True


def test_unsupported_scheme_and_refused_connection(server: Server) -> None:
    f = fetcher_for(server)
    with pytest.raises(FetchError) as scheme:
        f.fetch("ftp://127.0.0.1/x")
    assert scheme.value.reason == "unsupported URL scheme 'ftp' (only http and https)"
    with refused_port() as port, pytest.raises(FetchError) as refused:
        f.fetch(f"http://127.0.0.1:{port}/")
    assert refused.value.reason == "connection refused"


def test_http_error_status(server: Server) -> None:
    with pytest.raises(HTTPStatusError) as err:
        fetcher_for(server).fetch(server.base + "/missing")
    assert (err.value.status, err.value.reason) == (404, "HTTP 404 Not Found")


def test_gzip_and_brotli_bodies_decoded(server: Server) -> None:
    page = "<html><body>" + "<p>compressed text</p>" * 200 + "</body></html>"
    server.routes["/gz"] = (
        200,
        {"Content-Type": "text/html", "Content-Encoding": "gzip"},
        gzip.compress(page.encode()),
    )
    server.routes["/br"] = (
        200,
        {"Content-Type": "text/html", "Content-Encoding": "br"},
        brotli.compress(page.encode()),
    )
    f = fetcher_for(server)
    assert f.fetch(server.base + "/gz").text == page
    assert f.fetch(server.base + "/br").text == page
    assert server.log[0][2]["Accept-Encoding"] == "gzip, deflate, br"


def test_non_html_is_refused_unless_asked(server: Server) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    server.routes["/img"] = (200, {"Content-Type": "image/png"}, png)
    f = fetcher_for(server)
    with pytest.raises(FetchError) as err:
        f.fetch(server.base + "/img")
    assert err.value.reason == "not HTML (content type image/png)"
    assert f.fetch(server.base + "/img", html_only=False).body == png


def test_retry_after_is_honoured(server: Server) -> None:
    calls: list[int] = []

    def flaky(h: BaseHTTPRequestHandler) -> None:
        calls.append(1)
        if len(calls) == 1:
            h.send_response(429)
            h.send_header("Retry-After", "1")
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            body = b"<p>ok</p>"
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

    server.routes["/flaky"] = flaky
    got = fetcher_for(server).fetch(server.base + "/flaky")
    assert got.text == "<p>ok</p>"
    (first, _, _), (second, _, _) = server.log
    assert second - first >= 1.0


def test_503_gives_up_after_bounded_retries(server: Server) -> None:
    server.routes["/down"] = (503, {"Content-Length": "0"}, b"")
    server.routes["/later"] = (503, {"Retry-After": "3600"}, b"")
    f = fetcher_for(server, retries=2, backoff=0.05)
    with pytest.raises(HTTPStatusError) as err:
        f.fetch(server.base + "/down")
    assert err.value.reason == "HTTP 503 Service Unavailable after 3 attempts"
    assert server.paths() == ["/down"] * 3
    with pytest.raises(HTTPStatusError) as later:
        f.fetch(server.base + "/later")
    assert later.value.retry_after == 3600.0
    assert later.value.reason == (
        "HTTP 503 Service Unavailable; Retry-After 3600 s is longer than the 30 s cap, "
        "try again later"
    )
    assert server.paths().count("/later") == 1


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("\u00b2") is None  # a digit to str.isdigit(), not to float()


def test_a_content_length_of_unicode_digits_is_ignored(server: Server) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "\u00b2")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(b"<p>ok</p>")
        h.close_connection = True

    server.routes["/odd-length"] = route
    got = fetcher_for(server).fetch(server.base + "/odd-length")
    assert got.text == "<p>ok</p>"


FETCHED = datetime(2024, 5, 6, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("cache_control", "expires", "last_modified", "lifetime"),
    [
        # Cache-Control first: no-store, no-cache (bare or with fields) and max-age=0 say 0,
        # whatever else is there.
        ("no-store, max-age=600", None, None, 0.0),
        ("max-age=600, No-Cache", "Mon, 06 May 2024 07:00:00 GMT", None, 0.0),
        ('no-cache="Set-Cookie, X-Id", max-age=600', None, None, 0.0),
        ("max-age=0", "Mon, 06 May 2024 07:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT", 0.0),
        # max-age wins over Expires and Last-Modified; quotes, spaces, case and other
        # directives do not matter; s-maxage is for shared caches and is ignored.
        ("max-age=600", "Mon, 06 May 2024 07:00:00 GMT", None, 600.0),
        ('public, max-age="600", must-revalidate', None, None, 600.0),
        ("Private , MAX-AGE = 600", None, None, 600.0),
        ("s-maxage=9999, max-age=60", None, None, 60.0),
        ("s-maxage=9999", None, None, 0.0),
        ("max-age=99999999999999", None, None, 2.0**31),
        # A max-age that is not a number, or two that disagree: stale.
        ("max-age=-1", None, "Mon, 01 Jan 2024 00:00:00 GMT", 0.0),
        ("max-age=ten", None, None, 0.0),
        ("max-age", None, None, 0.0),
        ("max-age=60, max-age=600", None, None, 0.0),
        ("max-age=60, max-age=60", None, None, 60.0),
        # Expires minus the fetch time; in the past, invalid or "0": already expired, and no
        # heuristic then (Expires is an explicit answer).
        (None, "Mon, 06 May 2024 07:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT", 3600.0),
        ("public", "Mon, 06 May 2024 05:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT", 0.0),
        (None, "0", "Mon, 01 Jan 2024 00:00:00 GMT", 0.0),
        (None, "-1", None, 0.0),
        (None, "Mon, 06 May 2024", None, 0.0),
        (None, "", None, 0.0),
        (None, "Monday, 06-May-24 06:10:00 GMT", None, 600.0),  # the obsolete RFC 850 form
        (None, "Mon May  6 06:10:00 2024", None, 600.0),  # and asctime, taken as UTC
        # The heuristic: 10% of the time since Last-Modified, at the fetch.
        (None, None, "Mon, 06 May 2024 05:00:00 GMT", 360.0),
        ("public", None, "Tue, 06 Feb 2024 06:00:00 GMT", 90 * 86400 / 10),
        (None, None, "Mon, 06 May 2024 07:00:00 GMT", 0.0),  # in the future: 0, not negative
        (None, None, "yesterday", 0.0),
        (None, None, "Mon, 06 May 99999 05:00:00 GMT", 0.0),
        (None, None, None, 0.0),
        ("", "", "", 0.0),
    ],
)
def test_freshness_lifetime(
    cache_control: str | None, expires: str | None, last_modified: str | None, lifetime: float
) -> None:
    assert freshness_lifetime(cache_control, expires, last_modified, FETCHED) == lifetime


def test_cache_directives_keep_commas_inside_quotes() -> None:
    assert cache_directives('no-cache="Set-Cookie, X", max-age="6\\"0", public') == {
        "no-cache": ["Set-Cookie, X"],
        "max-age": ['6"0'],
        "public": [None],
    }
    assert cache_directives(None) == {} and cache_directives(" , ,") == {}


@pytest.mark.parametrize(
    ("fetched_at", "age_s", "cap", "fresh"),
    [
        ("2024-05-06T06:00:00+00:00", 0, 43200, True),
        ("2024-05-06T06:00:00+00:00", 599, 43200, True),
        ("2024-05-06T06:00:00+00:00", 600, 43200, False),  # age == lifetime: stale
        ("2024-05-06T06:00:00+00:00", 100, 60, False),  # the cap wins over max-age
        ("2024-05-06T06:00:00+00:00", 10, 0, False),  # recheck_after=0: nothing is fresh
        ("2024-05-06T06:00:00Z", 10, 43200, True),
        ("2024-05-06T06:00:00", 10, 43200, True),  # no zone: UTC
        ("2024-05-06T06:00:00+00:00", -1, 43200, False),  # fetched in the future: stale
        ("not a time", 10, 43200, False),
        ("", 10, 43200, False),
        (None, 10, 43200, False),
    ],
)
def test_is_fresh(fetched_at: str | None, age_s: float, cap: float, fresh: bool) -> None:
    now = FETCHED + timedelta(seconds=age_s)
    assert (
        is_fresh(
            fetched_at=fetched_at,
            cache_control="max-age=600",
            expires=None,
            last_modified=None,
            now=now,
            cap=cap,
        )
        is fresh
    )


def test_is_fresh_measures_expires_and_last_modified_from_the_fetch() -> None:
    def fresh(age_s: float, **headers: str) -> bool:
        return is_fresh(
            fetched_at="2024-05-06T06:00:00+00:00",
            cache_control=headers.get("cache_control"),
            expires=headers.get("expires"),
            last_modified=headers.get("last_modified"),
            now=FETCHED + timedelta(seconds=age_s),
            cap=43200,
        )

    assert fresh(3599, expires="Mon, 06 May 2024 07:00:00 GMT")
    assert not fresh(3600, expires="Mon, 06 May 2024 07:00:00 GMT")
    assert fresh(359, last_modified="Mon, 06 May 2024 05:00:00 GMT")
    assert not fresh(360, last_modified="Mon, 06 May 2024 05:00:00 GMT")
    # Modified a year before the fetch: 36 days by the heuristic, held to the 12 h cap.
    assert fresh(43199, last_modified="Sat, 06 May 2023 06:00:00 GMT")
    assert not fresh(43200, last_modified="Sat, 06 May 2023 06:00:00 GMT")


RU = "Съешь же ещё этих мягких французских булок, да выпей чаю. Это проверка кодировки страницы."
RU_XML = f'<?xml version="1.0" encoding="windows-1251"?><html><p>{RU}</p></html>'
RU_META = f'<html><head><meta charset="windows-1251"></head><body><p>{RU}</p></body></html>'


@pytest.mark.parametrize(
    ("body", "content_type", "expected_text", "expected_encoding"),
    [
        # Declared latin-1 but really windows-1252 (curly quotes): browsers decode as 1252.
        (
            "<p>\u201cQuoted\u201d \u2013 caf\u00e9</p>".encode("cp1252"),
            "text/html; charset=ISO-8859-1",
            "<p>\u201cQuoted\u201d \u2013 caf\u00e9</p>",
            "cp1252",
        ),
        (
            RU_META.encode("cp1251"),
            "text/html",
            RU_META,
            "cp1251",
        ),
        (
            f"<html><body><p>{RU}</p><p>{RU}</p></body></html>".encode("cp1251"),
            "text/html",
            f"<html><body><p>{RU}</p><p>{RU}</p></body></html>",
            "cp1251",
        ),
        (
            RU_XML.encode("cp1251"),
            "application/xhtml+xml",
            RU_XML,
            "cp1251",
        ),
        (
            b"\xef\xbb\xbf<p>caf\xc3\xa9</p>",
            "text/html; charset=cp1252",
            "<p>caf\u00e9</p>",
            "utf-8",
        ),
        (
            "<p>caf\u00e9</p>".encode(),
            "text/html; charset=no-such-charset",
            "<p>caf\u00e9</p>",
            "utf-8",
        ),
    ],
)
def test_encodings(
    body: bytes, content_type: str, expected_text: str, expected_encoding: str
) -> None:
    assert decode_body(body, content_type) == (expected_text, expected_encoding)


def test_windows_1252_page_over_http(server: Server) -> None:
    server.routes["/w"] = (
        200,
        {"Content-Type": "text/html; charset=windows-1252"},
        "<p>\u2018single\u2019 \u20ac5</p>".encode("cp1252"),
    )
    got = fetcher_for(server).fetch(server.base + "/w")
    assert (got.text, got.encoding) == ("<p>\u2018single\u2019 \u20ac5</p>", "cp1252")


def test_resolve_redirect(server: Server) -> None:
    server.routes["/s"] = (301, {"Location": "/long/article"}, b"")
    server.routes["/page"] = html("<p>x</p>")
    f = fetcher_for(server)
    assert f.resolve_redirect(server.base + "/s") == server.base + "/long/article"
    assert f.resolve_redirect(server.base + "/page") is None
    assert f.resolve_redirect("http://127.0.0.9/x") is None  # not named: refused, no request


def test_fetcher_is_thread_safe(server: Server) -> None:
    for i in range(20):
        server.routes[f"/p{i}"] = html(f"<p>{i}</p>")
    f = fetcher_for(server)
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = f.fetch(f"{server.base}/p{i}").text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"<p>{i}</p>" for i in range(20)}
    f.close()


@pytest.fixture
def tls_server(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The same server behind TLS, with a certificate for 127.0.0.1 from a throwaway CA that
    the fetcher trusts through REQUESTS_CA_BUNDLE."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    srv = Server(
        {"/": html("<p>secure</p>"), "/up": (302, {"Location": "https://127.0.0.2/"}, b"")}
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)
    yield srv
    srv.close()


def test_https_fetch_and_policy(tls_server: Server) -> None:
    base = f"https://127.0.0.1:{tls_server.port}"
    f = fetcher_for(tls_server)
    assert f.fetch(base + "/").text == "<p>secure</p>"
    assert f.fetch(base + "/").text == "<p>secure</p>"  # kept-alive TLS connection reused
    with pytest.raises(FetchError) as err:
        f.fetch(base + "/up")
    assert err.value.reason == (
        "refused: 127.0.0.2:443 is a non-public address that was not named; "
        "to scan it, pass --allow-private 127.0.0.2:443"
    )


def test_https_certificate_is_verified(tls_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(FetchError) as err:
        fetcher_for(tls_server).fetch(f"https://127.0.0.1:{tls_server.port}/")
    assert err.value.reason == (
        "TLS error: certificate verify failed (unable to get local issuer certificate)"
    )


def test_connected_address_is_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name looked public when checked, then connected to loopback. The
    check before the request is bypassed here (a rebinding DNS server cannot run in a test);
    the check on the connected socket must still refuse."""
    other = Server({"/": html("<p>internal</p>")}, host="127.0.0.2")
    try:
        monkeypatch.setattr(AddressPolicy, "check_host", lambda self, host, port: None)
        with pytest.raises(FetchError) as err:
            Fetcher().fetch(f"http://127.0.0.2:{other.port}/")
        assert err.value.reason == (
            "refused: 127.0.0.2 connected to non-public 127.0.0.2; "
            "to scan it, pass --allow-private 127.0.0.2"
        )
        assert other.paths() == []
    finally:
        other.close()


def test_an_unknown_host_name_is_said_plainly() -> None:
    raw = (
        "HTTPConnectionPool(host='nowhere.invalid', port=80): Max retries exceeded with url: / "
        '(Caused by NameResolutionError("<urllib3.connection.HTTPConnection object>: Failed to '
        "resolve 'nowhere.invalid' ([Errno -2] Name or service not known)\"))"
    )
    reason, code = _describe(requests.exceptions.ConnectionError(raw))
    assert reason == "connection failed: cannot resolve the host name 'nowhere.invalid'"
    assert code is SkipCode.UNREACHABLE


def test_conditional_headers() -> None:
    assert conditional_headers('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT") == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT",
    }
    assert conditional_headers(None, "") == {}


# -- skip codes: every failure says what kind it is, for code that acts on it -----------------


def _failure(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as err:
        fetcher.fetch(url)
    return err.value


def test_a_refused_port_gives_refused() -> None:
    f = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"})))
    with refused_port() as port:
        err = _failure(f, f"http://127.0.0.1:{port}/")
    assert (err.reason, err.code) == ("connection refused", SkipCode.REFUSED)


@pytest.mark.parametrize(
    ("route", "reason", "code"),
    [
        ((404, {"Content-Type": "text/html"}, b"<p>no</p>"), "HTTP 404 Not Found", SkipCode.GONE),
        ((410, {"Content-Type": "text/html"}, b"<p>no</p>"), "HTTP 410 Gone", SkipCode.GONE),
        (
            (500, {"Content-Type": "text/html"}, b"<p>oops</p>"),
            "HTTP 500 Internal Server Error",
            SkipCode.HTTP_ERROR,
        ),
        (
            (200, {"Content-Type": "text/html"}, b"<p>" + b"x" * 2000 + b"</p>"),
            "body larger than 1000 bytes",
            SkipCode.TOO_LARGE,
        ),
        (
            (
                200,
                {"Content-Type": "text/html", "Content-Encoding": "gzip"},
                gzip.compress(b"x" * 5000),
            ),
            "body larger than 1000 bytes once decompressed",
            SkipCode.TOO_LARGE,
        ),
        (
            (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%%EOF\n"),
            "not HTML (content type application/pdf)",
            SkipCode.NOT_HTML,
        ),
        (
            (200, {}, b"%PDF-1.4\n%%EOF\n"),
            "not HTML (no content type, and the body is not HTML)",
            SkipCode.NOT_HTML,
        ),
    ],
    ids=["404", "410", "500", "too-large", "gzip-too-large", "pdf", "untyped-pdf"],
)
def test_failures_carry_their_skip_code(
    server: Server, route: tuple[int, dict[str, str], bytes], reason: str, code: SkipCode
) -> None:
    server.routes["/x"] = route
    err = _failure(fetcher_for(server, retries=0, max_bytes=1000), server.base + "/x")
    assert (err.reason, err.code) == (reason, code)


def test_a_blocked_private_address_gives_address_policy(server: Server) -> None:
    server.routes["/"] = html("<p>internal</p>")
    server.routes["/go"] = (302, {"Location": "http://127.0.0.2/"}, b"")
    unnamed = _failure(Fetcher(), server.base + "/")
    assert (unnamed.reason, unnamed.code) == (
        f"refused: 127.0.0.1:{server.port} is a non-public address that was not named; "
        f"to scan it, pass --allow-private 127.0.0.1:{server.port}",
        SkipCode.ADDRESS_POLICY,
    )
    redirected = _failure(fetcher_for(server), server.base + "/go")
    assert (redirected.reason, redirected.code) == (
        "refused: 127.0.0.2:80 is a non-public address that was not named; "
        "to scan it, pass --allow-private 127.0.0.2:80",
        SkipCode.ADDRESS_POLICY,
    )
    assert server.paths() == ["/go"]


# -- the address policy by host and port: a canary on a second port of a named address ---------


@pytest.fixture
def canary() -> Iterator[Server]:
    srv = Server({"/": html("<p>canary</p>"), "/secret": html("<p>canary</p>")})
    yield srv
    srv.close()


def _named(*servers: Server) -> Fetcher:
    """A fetcher as a scan builds it: each named address allowed on its own port only."""
    return Fetcher(FetchConfig(allowed_hosts=frozenset(f"{s.host}:{s.port}" for s in servers)))


def test_a_redirect_to_another_port_of_a_named_address_is_refused(
    server: Server, canary: Server
) -> None:
    server.routes["/go"] = (302, {"Location": f"http://127.0.0.1:{canary.port}/secret"}, b"")
    server.routes["/ok"] = html("<p>ok</p>")
    f = _named(server)
    assert f.fetch(server.base + "/ok").text == "<p>ok</p>"
    err = _failure(f, server.base + "/go")
    assert (err.reason, err.code) == (
        f"refused: 127.0.0.1:{canary.port} is a non-public address that was not named; "
        f"to scan it, pass --allow-private 127.0.0.1:{canary.port}",
        SkipCode.ADDRESS_POLICY,
    )
    assert f.resolve_redirect(canary.base + "/secret") is None  # a shortlink on that port
    assert canary.paths() == []
    assert server.paths() == ["/ok", "/go"]


def test_allow_private_without_a_port_allows_every_port(server: Server, canary: Server) -> None:
    server.routes["/go"] = (302, {"Location": f"http://127.0.0.1:{canary.port}/secret"}, b"")
    f = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"})))
    assert f.fetch(server.base + "/go").final_url == canary.base + "/secret"
    assert canary.paths() == ["/secret"]


def test_a_name_resolving_to_loopback_needs_allow_private(server: Server) -> None:
    server.routes["/"] = html("<p>named</p>")
    url = f"http://localhost:{server.port}/"
    err = _failure(_named(server), url)
    assert err.code is SkipCode.ADDRESS_POLICY
    assert err.reason.startswith("refused: localhost resolves to non-public ")
    assert err.reason.endswith("; to scan it, pass --allow-private localhost")
    assert server.paths() == []
    allowed = Fetcher(FetchConfig(allowed_hosts=frozenset({f"localhost:{server.port}"})))
    assert allowed.fetch(url).text == "<p>named</p>"  # ::1 refuses; 127.0.0.1 answers
    assert server.paths() == ["/"]


def test_the_connected_port_is_checked_again(
    monkeypatch: pytest.MonkeyPatch, server: Server, canary: Server
) -> None:
    """The check before the request bypassed, the connection to another port of a named
    address is still refused."""
    monkeypatch.setattr(AddressPolicy, "check_host", lambda self, host, port: None)
    err = _failure(_named(server), canary.base + "/")
    assert (err.reason, err.code) == (
        "refused: 127.0.0.1 connected to non-public 127.0.0.1; "
        "to scan it, pass --allow-private 127.0.0.1",
        SkipCode.ADDRESS_POLICY,
    )
    assert canary.paths() == []
