"""Database URLs in messages: a `postgresql://` URL with its password masked.

In: a `--db` spec. Out: the same text, safe to print (no psycopg needed).
"""

from __future__ import annotations

import re

from xpostcheck.util.urls import mask_password

__all__ = ["is_postgres_url", "redact_db_url"]

_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&#]*")


def is_postgres_url(spec: str) -> bool:
    """Whether a `--db` spec names a PostgreSQL database rather than a SQLite file."""
    return spec.startswith(("postgresql://", "postgres://"))


def redact_db_url(url: str) -> str:
    """`url` with the password of its `user:password@` part, and of a `password=` query
    parameter, replaced by `***`."""
    return _PASSWORD_PARAM.sub(r"\1***", mask_password(url))
