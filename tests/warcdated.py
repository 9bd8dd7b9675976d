"""WARC files whose records carry a given capture time (WARC-Date), for the tests of history
across scans of archives (tests/pipeline/test_warc_history.py, tests/queue/): the pages of
one republishing site (tests/warcfix.py `site_pages`) captured month after month.
"""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

__all__ = ["FEB", "JAN", "MAR", "SITE", "TAKEN_DOWN", "write_archive"]

SITE = "https://shore.example"
TAKEN_DOWN = "<html><head><title>Gone</title></head><body><p>This post was removed.</p></body>"
JAN, FEB, MAR = "2026-01-05T00:00:00Z", "2026-02-05T00:00:00Z", "2026-03-05T00:00:00Z"


def write_archive(path: Path, pages: dict[str, str], date: str) -> Path:
    """A WARC of the pages at `SITE` (request and response records), every record captured
    at `date` (WARC-Date)."""
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for page, body in pages.items():
            url = SITE + page
            stamp = {"WARC-Date": date}
            request = StatusAndHeaders(
                f"GET {page} HTTP/1.1", [("Host", "shore.example")], is_http_request=True
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "request", http_headers=request, warc_headers_dict=stamp
                )
            )
            head = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body.encode()),
                    http_headers=head,
                    warc_headers_dict=stamp,
                )
            )
    return path
