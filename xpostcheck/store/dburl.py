"""Database URLs in messages: a `postgresql://` URL with its password masked.

In: a `--db` spec. Out: the same text, safe to print (no psycopg needed).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from xpostcheck.util.urls import mask_password

__all__ = ["is_postgres_url", "redact_db_url", "without_password"]

_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&#]*")


def is_postgres_url(spec: str) -> bool:
    """Whether a `--db` spec names a PostgreSQL database rather than a SQLite file."""
    return spec.startswith(("postgresql://", "postgres://"))


def redact_db_url(url: str) -> str:
    """`url` with the password of its `user:password@` part, and of a `password=` query
    parameter, replaced by `***`."""
    return _PASSWORD_PARAM.sub(r"\1***", mask_password(url))


def without_password(url: str) -> str:
    """`url` with no password at all (in its `user:password@` part or a `password=` query
    parameter), for a command printed in a report: it still works where the password comes
    from the environment (PGPASSWORD) or a ~/.pgpass file."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_db_url(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.lower().startswith("password=")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
