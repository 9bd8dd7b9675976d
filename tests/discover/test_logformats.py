"""Each access-log format, line by line: what a Hit carries, and what makes a line malformed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from xpostcheck.discover.logformats import (
    BadLine,
    CombinedParser,
    JsonFields,
    JsonParser,
    W3CParser,
    parser_for,
    sniff_format,
)

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def test_combined_line_with_escapes_and_a_time_zone() -> None:
    line = (
        '198.51.100.4 - - [28/Nov/2026:10:15:00 -0500] "GET /img/pier.jpg?w=640 HTTP/1.1" 200 '
        '5120 "https://copy.example/a \\"quoted\\" page.html" "' + UA + '"'
    )
    hit = CombinedParser().parse(line)
    assert hit.when == datetime(2026, 11, 28, 15, 15, tzinfo=timezone.utc)
    assert hit.referrer == 'https://copy.example/a "quoted" page.html'
    assert hit.agent == UA
    assert hit.path == "/img/pier.jpg?w=640"


def test_combined_dash_referrer_and_common_log_format_have_no_referrer() -> None:
    combined = '1.2.3.4 - - [01/Dec/2026:00:00:00 +0000] "GET / HTTP/1.1" 304 - "-" "curl/8.0"'
    common = '1.2.3.4 - frank [01/Dec/2026:00:00:00 +0000] "GET /a HTTP/1.0" 200 12'
    assert CombinedParser().parse(combined).referrer == ""
    hit = CombinedParser().parse(common)
    assert (hit.referrer, hit.agent, hit.path) == ("", "", "/a")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not a log line at all", "not a combined log line"),
        ('1.2.3.4 - - [99/Foo/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"', "bad time"),
        ('1.2.3.4 - - [01/Dec/2026:00:00:00 +0000] "GET / HTTP/1.1" abc 1', "not a combined"),
    ],
)
def test_combined_malformed_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        CombinedParser().parse(line)


def test_w3c_cdn_style_tabs_and_url_encoded_values() -> None:
    parser = W3CParser()
    assert parser.header("#Version: 1.0")
    assert parser.header(
        "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
        "sc-status cs(Referer) cs(User-Agent) cs-uri-query"
    )
    values = [
        "2026-11-28",
        "23:01:02",
        "AMS1",
        "43",
        "192.0.2.1",
        "GET",
        "d111.cdn.example",
        "/pixel.gif",
        "200",
        "https://copy.example/2026/ferry%20cuts.html",
        "Mozilla/5.0%20(X11;%20Linux%20x86_64)",
        "-",
    ]
    hit = parser.parse("\t".join(values))
    assert hit.when == datetime(2026, 11, 28, 23, 1, 2, tzinfo=timezone.utc)
    assert hit.referrer == "https://copy.example/2026/ferry cuts.html"
    assert hit.agent == "Mozilla/5.0 (X11; Linux x86_64)"
    assert hit.path == "/pixel.gif"


def test_w3c_iis_style_spaces_plus_in_agent_and_dash_referrer() -> None:
    parser = W3CParser()
    parser.header("#Fields: date time cs-method cs-uri-stem cs(User-Agent) cs(Referer) sc-status")
    hit = parser.parse("2026-11-28 08:00:00 GET /a.css Mozilla/5.0+(Windows+NT+10.0) - 200")
    assert (hit.referrer, hit.agent, hit.path) == ("", "Mozilla/5.0 (Windows NT 10.0)", "/a.css")


def test_w3c_malformed_lines() -> None:
    parser = W3CParser()
    with pytest.raises(BadLine, match="no #Fields: header"):
        parser.parse("2026-11-28 08:00:00 GET /a.css")
    parser.header("#Fields: date time cs-uri-stem cs(Referer)")
    with pytest.raises(BadLine, match="3 columns where #Fields: names 4"):
        parser.parse("2026-11-28 08:00:00 /a.css")
    with pytest.raises(BadLine, match="bad time"):
        parser.parse("2026-13-45 08:00:00 /a.css -")


def test_json_default_nested_and_epoch_fields() -> None:
    parser = JsonParser()
    hit = parser.parse(
        '{"time": "2026-11-28T10:00:00+01:00", "referer": "https://copy.example/x", '
        '"user_agent": "Firefox", "path": "/p.gif"}'
    )
    assert hit == type(hit)(
        datetime(2026, 11, 28, 9, tzinfo=timezone.utc),
        "https://copy.example/x",
        "Firefox",
        "/p.gif",
    )
    nested = parser.parse(
        '{"timestamp": 1795000000, "httpRequest": {"referer": "https://b.example/",'
        ' "userAgent": "Safari", "requestUrl": "https://news.example/i.png"}}'
    )
    assert nested.when == datetime.fromtimestamp(1795000000, tz=timezone.utc)
    assert (nested.referrer, nested.agent) == ("https://b.example/", "Safari")


def test_json_fields_are_configurable() -> None:
    parser = JsonParser(JsonFields(referrer=("ref",), agent=("client",), time=("at",)))
    hit = parser.parse('{"ref": "https://c.example/", "client": "Edge", "at": "2026-11-28 10:00"}')
    assert (hit.referrer, hit.agent) == ("https://c.example/", "Edge")
    assert hit.when == datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    assert parser.parse('{"referer": "https://ignored.example/"}').referrer == ""


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        ('{"time": "yesterday", "referer": "https://a.example/"}', "bad time"),
        ('{"time": {"s": 1}, "referer": "https://a.example/"}', "bad time in field 'time'"),
        ('{"ts": 1e300}', "bad time in field 'ts'"),
    ],
)
def test_json_malformed_lines(line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        JsonParser().parse(line)


def test_sniffing_and_the_parser_registry() -> None:
    assert sniff_format("#Version: 1.0") == "w3c"
    assert sniff_format('\ufeff{"a": 1}') == "json"
    assert sniff_format('1.2.3.4 - - [01/Dec/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1') == (
        "combined"
    )
    assert parser_for("json").name == "json"
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        parser_for("xml")
