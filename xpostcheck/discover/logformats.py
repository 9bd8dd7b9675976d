"""Access-log line formats: nginx/Apache combined, W3C extended (CDN style) and JSON Lines.

In: one decoded line at a time. Out: a `Hit` (when, referrer, user agent, requested path) or a
`BadLine` saying what is wrong with it. Each parser is a small object made once per file, so that
a W3C file's `#Fields:` header and the caches of parsed timestamps belong to that file only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import unquote, unquote_plus

__all__ = [
    "FORMATS",
    "JSON_FIELDS",
    "BadLine",
    "CombinedParser",
    "Hit",
    "JsonFields",
    "JsonParser",
    "LineParser",
    "W3CParser",
    "parser_for",
    "sniff_format",
]

FORMATS = ("auto", "combined", "w3c", "json")


class Hit(NamedTuple):
    """What discovery needs from one request: its time (UTC, None when the log has none), the
    Referer ('' when absent), the User-Agent and the path the request asked for. A named tuple:
    one is made per line, and a tuple is the cheapest to make."""

    when: datetime | None
    referrer: str
    agent: str
    path: str


class BadLine(ValueError):
    """A line that is not in the file's format; the message says what is wrong."""


@dataclass(frozen=True)
class JsonFields:
    """The names of the fields of a JSON Lines log, each tried in order; a dotted name reaches
    into nested objects (`httpRequest.referer`)."""

    referrer: tuple[str, ...] = (
        "referer",
        "referrer",
        "http_referer",
        "http_referrer",
        "cs_referer",
        "httpRequest.referer",
        "request.headers.referer",
    )
    agent: tuple[str, ...] = (
        "user_agent",
        "useragent",
        "http_user_agent",
        "agent",
        "ua",
        "httpRequest.userAgent",
        "request.headers.user-agent",
    )
    time: tuple[str, ...] = ("time", "timestamp", "@timestamp", "time_iso8601", "date", "ts")
    path: tuple[str, ...] = ("path", "uri", "request_uri", "url", "httpRequest.requestUrl")


JSON_FIELDS = JsonFields()

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# host ident user [time] "request" status bytes "referer" "agent"; the last two are optional
# (the common log format has neither), and quoted fields may hold \" escapes (nginx, Apache).
_QUOTED = r'([^"\\]*(?:\\.[^"\\]*)*)'  # a quoted field's inside, \" escapes allowed
_COMBINED = re.compile(
    r'\S+ \S+ (?:\S+|"[^"]*") \[([^\]]+)\] "' + _QUOTED + r'" (?:\d{3}|-) (?:\d+|-)'
    r'(?: "' + _QUOTED + r'"(?: "' + _QUOTED + r'")?)?'
)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        return chr(int(code[1:], 16)) if code[0] == "x" and len(code) == 3 else code

    return _ESCAPE.sub(one, text)


def _request_path(request: str) -> str:
    parts = request.split(" ")
    return parts[1] if len(parts) >= 2 else ""


class _Times:
    """Parsed timestamps, the last one remembered: a busy log repeats each second many times."""

    def __init__(self) -> None:
        self.last_text = ""
        self.last: datetime | None = None

    def clf(self, text: str) -> datetime:
        # 10/Oct/2026:13:55:36 -0700 (the format every combined log writes)
        if text == self.last_text and self.last is not None:
            return self.last
        try:
            day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
            hour, minute, second = int(text[12:14]), int(text[15:17]), int(text[18:20])
            zone = text[21:26]
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
            when = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc) - offset
        except (KeyError, ValueError, IndexError):
            raise BadLine(f"bad time {text!r}") from None
        self.last_text, self.last = text, when
        return when

    def iso(self, text: str) -> datetime:
        if text == self.last_text and self.last is not None:
            return self.last
        raw = text.strip()
        if raw.endswith(("Z", "z")):
            raw = raw[:-1] + "+00:00"
        try:
            when = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
        except ValueError:
            raise BadLine(f"bad time {text!r}") from None
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
        when = when.astimezone(timezone.utc)
        self.last_text, self.last = text, when
        return when


class CombinedParser:
    """nginx's `combined` and Apache's `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\"
    \"%{User-agent}i\"`; the common log format (no referrer) is read too."""

    name = "combined"

    def __init__(self) -> None:
        self._times = _Times()

    def header(self, line: str) -> bool:
        return False

    def _fields(self, line: str) -> tuple[str, str, str | None, str | None]:
        # The common case without a regex: no backslash, so every quote ends a field.
        if "\\" not in line:
            start = line.find(" [")
            end = line.find('] "', start)
            if start > 0 and end > 0 and line.count(" ", 0, start) >= 2:
                parts = line[end + 3 :].split('"')
                middle = parts[1].split(" ") if len(parts) >= 2 else []
                if (
                    len(middle) in (3, 4)
                    and middle[0] == ""
                    and (middle[1] == "-" or (len(middle[1]) == 3 and middle[1].isdigit()))
                    and (middle[2] == "-" or middle[2].isdigit())
                ):
                    when_text = line[start + 2 : end]
                    if len(middle) == 3 and len(parts) == 2:  # the common log format
                        return when_text, parts[0], None, None
                    if len(middle) == 4 and middle[3] == "" and len(parts) >= 6:
                        return when_text, parts[0], parts[2], parts[4]
        m = _COMBINED.match(line)
        if m is None:
            raise BadLine("not a combined log line")
        when_text, request, referrer, agent = m.groups()
        return when_text, request, referrer, agent

    def parse(self, line: str) -> Hit:
        when_text, request, referrer, agent = self._fields(line)
        referrer = _unescape(referrer or "")
        return Hit(
            self._times.clf(when_text),
            "" if referrer == "-" else referrer,
            _unescape(agent or ""),
            _request_path(_unescape(request)),
        )


class W3CParser:
    """The W3C extended log format as CDNs and IIS write it: `#Fields:` names the columns,
    separated by tabs or spaces; `-` is an empty value; values may be URL-encoded."""

    name = "w3c"

    def __init__(self) -> None:
        self._times = _Times()
        self._fields: dict[str, int] = {}
        self._tabs = False

    def header(self, line: str) -> bool:
        if not line.startswith("#"):
            return False
        if line.startswith("#Fields:"):
            names = line[len("#Fields:") :].split()
            self._fields = {name.lower(): i for i, name in enumerate(names)}
        return True

    def _column(self, values: Sequence[str], *names: str) -> str:
        for name in names:
            i = self._fields.get(name)
            if i is not None and i < len(values):
                value = values[i]
                return "" if value == "-" else value
        return ""

    def parse(self, line: str) -> Hit:
        if not self._fields:
            raise BadLine("no #Fields: header before this line")
        values = line.split("\t") if "\t" in line else line.split(" ")
        if len(values) != len(self._fields):
            raise BadLine(f"{len(values)} columns where #Fields: names {len(self._fields)}")
        date = self._column(values, "date")
        clock = self._column(values, "time")
        when = None
        if date:
            when = self._times.iso(f"{date}T{clock or '00:00:00'}")
        referrer = self._column(values, "cs(referer)", "cs(referrer)", "cs-referer", "referer")
        agent = self._column(values, "cs(user-agent)", "cs-user-agent", "user-agent")
        # CDNs URL-encode both (a space is %20, sometimes %2520); IIS writes a space as '+'.
        if "%" in referrer:
            referrer = unquote(unquote(referrer)) if "%25" in referrer else unquote(referrer)
        if agent:
            agent = unquote_plus(unquote(agent) if "%25" in agent else agent)
        path = self._column(values, "cs-uri-stem", "cs-uri", "uri")
        return Hit(when, referrer, agent, path)


def _lookup(record: dict[str, object], name: str) -> object:
    if name in record:
        return record[name]
    value: object = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class JsonParser:
    """JSON Lines: one object a line; `JsonFields` names the fields. A time is an ISO 8601
    string or seconds since the epoch."""

    name = "json"

    def __init__(self, fields: JsonFields = JSON_FIELDS) -> None:
        self._fields = fields
        self._times = _Times()

    def header(self, line: str) -> bool:
        return False

    def _text(self, record: dict[str, object], names: tuple[str, ...]) -> str:
        for name in names:
            value = _lookup(record, name)
            if isinstance(value, str):
                return "" if value == "-" else value
        return ""

    def parse(self, line: str) -> Hit:
        try:
            record = json.loads(line)
        except ValueError:
            raise BadLine("not a JSON object") from None
        if not isinstance(record, dict):
            raise BadLine("not a JSON object")
        when = None
        for name in self._fields.time:
            value = _lookup(record, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise BadLine(f"bad time in field {name!r}")
            if isinstance(value, str):
                when = self._times.iso(value)
            else:
                try:
                    when = datetime.fromtimestamp(float(value), tz=timezone.utc)
                except (OverflowError, OSError, ValueError):
                    raise BadLine(f"bad time in field {name!r}") from None
            break
        return Hit(
            when,
            self._text(record, self._fields.referrer),
            self._text(record, self._fields.agent),
            self._text(record, self._fields.path),
        )


LineParser = CombinedParser | W3CParser | JsonParser


def sniff_format(first_line: str) -> str:
    """The format of a log from its first non-blank line: 'w3c', 'json' or 'combined'."""
    text = first_line.lstrip("\ufeff").strip()
    if text.startswith("#"):
        return "w3c"
    if text.startswith("{"):
        return "json"
    return "combined"


def parser_for(fmt: str, fields: JsonFields = JSON_FIELDS) -> LineParser:
    """A fresh parser for one file in format `fmt` (not 'auto')."""
    if fmt == "w3c":
        return W3CParser()
    if fmt == "json":
        return JsonParser(fields)
    if fmt == "combined":
        return CombinedParser()
    raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
