"""HTTP header values: a header looked up in a response's header tuple, ASCII digits, HTTP dates
and Retry-After.

In: header strings. Out: plain values (str, float, aware datetime) or None when unreadable.
Shared by the fetcher (retries, Content-Length) and the cache (freshness)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

Headers = tuple[tuple[str, str], ...]


def is_digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and other digits int() refuses."""
    return value.isascii() and value.isdigit()


def header(headers: Headers, name: str) -> str | None:
    """The first value of header `name` (any case), or None."""
    low = name.lower()
    for key, value in headers:
        if key.lower() == low:
            return value
    return None


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (any of the three RFC 9110 forms) as an aware datetime, or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python 3.10 may return None instead of raising
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if is_digits(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
