"""HTTP caching for a private client that stores no Age or Date (RFC 9111 section 4.2).

In: the validators and caching headers kept from an earlier fetch, and the time now. Out:
whether that response is still fresh (`is_fresh`, so the crawl need not ask again), and the
conditional request headers that let the server answer 304 when it is not."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from xpostcheck.net.headers import http_date, is_digits

_DIRECTIVE = re.compile(r'\s*([^\s=,"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')
_MAX_DELTA = 2**31  # RFC 9111 1.2.2: a larger delta-seconds counts as this


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match and If-Modified-Since for the validators an earlier answer gave."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def cache_directives(value: str | None) -> dict[str, list[str | None]]:
    """Cache-Control directives, names lowercased, each with its values in order (None for a
    bare directive, quotes removed from a quoted one). Commas inside quotes do not split."""
    found: dict[str, list[str | None]] = {}
    for m in _DIRECTIVE.finditer(value or ""):
        name, arg = m.group(1).lower(), m.group(2)
        if arg is not None:
            arg = arg.strip()
            if len(arg) >= 2 and arg[0] == arg[-1] == '"':
                arg = re.sub(r"\\(.)", r"\1", arg[1:-1])
        found.setdefault(name, []).append(arg)
    return found


def freshness_lifetime(
    cache_control: str | None,
    expires: str | None,
    last_modified: str | None,
    fetched_at: datetime,
) -> float:
    """Seconds a response fetched at `fetched_at` stays fresh, by its own headers:
    - Cache-Control no-store, no-cache or max-age=0: 0;
    - else max-age (s-maxage is for shared caches; this is a private client). A max-age that is
      not a number, or two different max-ages, make the response stale (0);
    - else Expires minus the fetch time (an invalid Expires, "0" included, is in the past: 0);
    - else the heuristic: 10% of the time between Last-Modified and the fetch;
    - else 0.
    Never negative."""
    directives = cache_directives(cache_control)
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        values = set(directives["max-age"])
        value = values.pop() if len(values) == 1 else None
        if value is None or not is_digits(value):
            return 0.0
        return float(min(int(value), _MAX_DELTA))
    if expires is not None:
        when = http_date(expires)
        if when is None:
            return 0.0
        return max(0.0, (when - fetched_at).total_seconds())
    modified = http_date(last_modified)
    if modified is None:
        return 0.0
    return max(0.0, (fetched_at - modified).total_seconds() / 10)


def is_fresh(
    *,
    fetched_at: str | None,
    cache_control: str | None,
    expires: str | None,
    last_modified: str | None,
    now: datetime,
    cap: float,
) -> bool:
    """Whether a response fetched at `fetched_at` (ISO 8601) is still fresh at `now`: its age is
    under its freshness lifetime, capped at `cap` seconds. An unreadable fetch time, or one in
    the future (a clock that went back), is never fresh."""
    if cap <= 0 or not fetched_at:
        return False
    try:
        when = datetime.fromisoformat(fetched_at.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = (now - when).total_seconds()
    if age < 0:
        return False
    lifetime = min(cap, freshness_lifetime(cache_control, expires, last_modified, when))
    return age < lifetime
