"""SQLite tables of pages: page states, page texts, sources, and the evidence index.

In: Fetched pages, texts, source hashes. Out: PageState records, snapshots, WARC bytes (read
through the store's `EvidenceArchive`). A 304 is merged by `pipeline.history.merge_unchanged`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from xpostcheck.models import Fetched, PageState, SeenPage
from xpostcheck.pipeline.history import merge_unchanged
from xpostcheck.store.evidence import EvidenceRecord
from xpostcheck.store.sqlite.tables import Tables, locked, transaction, url_key_of
from xpostcheck.util.urls import host_of

__all__ = ["PageTables"]


class PageTables(Tables):
    """The `PageLog` part of the store, and `evidence()`."""

    # -- pages ----------------------------------------------------------------------------

    @locked
    def page_state(self, url: str) -> PageState | None:
        """What the latest finished scan saw at `url`, for a conditional request."""
        row = self._db.execute(
            """SELECT p.final_url, p.etag, p.last_modified, p.content_hash, p.fetched_at,
                      p.links, p.cache_control, p.expires, s.fingerprint, p.scan_id
               FROM pages p JOIN scans s ON s.id = p.scan_id
               WHERE (p.url = ? OR p.final_url = ?) AND s.finished IS NOT NULL
                 AND (p.status BETWEEN 200 AND 299 OR p.status = 304)
               ORDER BY p.id DESC LIMIT 1""",
            (url, url),
        ).fetchone()
        return None if row is None else _state(url, row[1:])

    @locked
    def page_states(self, host: str) -> dict[str, PageState]:
        """`page_state` of every URL on `host` (any port, any scheme) at once, keyed by the URL
        asked for and by its final URL: a crawl of one site loads them before it starts."""
        # Index ranges on url and final_url: every URL that starts with scheme://host (a
        # longer host name with the same start is dropped below), not the whole table.
        ranges: list[str] = []
        for scheme in ("http", "https"):
            start = f"{scheme}://{host}"
            ranges += [start, start + "\U0010ffff"]
        in_range = " OR ".join(["(p.{col} >= ? AND p.{col} < ?)"] * 2)
        where = " OR ".join(in_range.format(col=col) for col in ("url", "final_url"))
        rows = self._db.execute(
            f"""SELECT p.url, p.final_url, p.etag, p.last_modified, p.content_hash, p.fetched_at,
                       p.links, p.cache_control, p.expires, s.fingerprint, p.scan_id
                FROM pages p JOIN scans s ON s.id = p.scan_id
                WHERE ({where}) AND s.finished IS NOT NULL
                  AND (p.status BETWEEN 200 AND 299 OR p.status = 304)
                ORDER BY p.id""",
            ranges * 2,
        )
        out: dict[str, PageState] = {}
        for row in rows:  # later rows win, as page_state's ORDER BY id DESC LIMIT 1 does
            if host_of(row[0]) != host and host_of(row[1]) != host:
                continue
            for url in dict.fromkeys((row[0], row[1])):
                out[url] = _state(url, row[2:])
        return out

    @locked
    def record_page(
        self, scan_id: int, fetched: Fetched, *, is_copy: bool, before: PageState | None = None
    ) -> None:
        """Record a fetched page. For a 304, `before` is its state from page_state() when the
        caller has it already (else it is looked up again). Idempotent per scan and URL: a
        page recorded again in the same scan (a retried job) replaces its row and its
        evidence row, the newest fetch winning."""
        if fetched.unchanged and before is None:
            before = self.page_state(fetched.url) or self.page_state(fetched.final_url)
        state = merge_unchanged(before, fetched)
        with self._lock:
            self._db.execute(
                """INSERT INTO pages (scan_id, url, final_url, url_key, fetched_at, status,
                       etag, last_modified, content_hash, is_copy, links, cache_control,
                       expires)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (scan_id, url) DO UPDATE SET
                       final_url = excluded.final_url, url_key = excluded.url_key,
                       fetched_at = excluded.fetched_at, status = excluded.status,
                       etag = excluded.etag, last_modified = excluded.last_modified,
                       content_hash = excluded.content_hash, is_copy = excluded.is_copy,
                       links = excluded.links, cache_control = excluded.cache_control,
                       expires = excluded.expires""",
                (
                    scan_id,
                    fetched.url,
                    fetched.final_url,
                    url_key_of(fetched.final_url),
                    fetched.fetched_at,
                    fetched.status,
                    state.etag,
                    state.last_modified,
                    state.content_hash,
                    int(is_copy),
                    json.dumps(list(state.links)),
                    state.cache_control,
                    state.expires,
                ),
            )
            if is_copy and not fetched.unchanged:
                rec = self.archive.write(scan_id, fetched)
                self._db.execute(
                    """INSERT INTO evidence (scan_id, url, final_url, url_key, fetched_at, file,
                           "offset", length, sha256, payload_sha256, record_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (scan_id, url) DO UPDATE SET
                           final_url = excluded.final_url, url_key = excluded.url_key,
                           fetched_at = excluded.fetched_at, file = excluded.file,
                           "offset" = excluded."offset", length = excluded.length,
                           sha256 = excluded.sha256, payload_sha256 = excluded.payload_sha256,
                           record_id = excluded.record_id""",
                    (
                        scan_id,
                        fetched.url,
                        fetched.final_url,
                        url_key_of(fetched.final_url),
                        fetched.fetched_at,
                        rec.file,
                        rec.offset,
                        rec.length,
                        rec.sha256,
                        rec.payload_sha256,
                        rec.record_id,
                    ),
                )

    @locked
    def record_seen_pages(self, scan_id: int, pages: Sequence[SeenPage]) -> None:
        """Record pages the scan looked at without analysing them (a WARC scan's pages that
        the pre-filter kept out: they hold no copy), in one transaction: what history needs
        (the URL, its key, when it was fetched or captured, the status). No validators,
        content hash or links are kept, so a later crawl never takes such a page as
        unchanged on their word. A page this scan recorded already (analysed, or by an
        earlier run of a retried job) keeps its row."""
        if not pages:
            return
        rows = [
            (scan_id, p.url, p.final_url, url_key_of(p.final_url), p.fetched_at, p.status)
            for p in pages
        ]
        with transaction(self._db):  # (the call holds the lock: @locked)
            self._db.executemany(
                """INSERT INTO pages (scan_id, url, final_url, url_key, fetched_at, status,
                       is_copy, links)
                   VALUES (?, ?, ?, ?, ?, ?, 0, '[]')
                   ON CONFLICT (scan_id, url) DO NOTHING""",
                rows,
            )

    # -- sources and page texts: what an unchanged page was matched against ---------------

    @locked
    def note_sources(self, scan_id: int, hashes: Mapping[str, str]) -> set[str]:
        """Record the scan's source articles ({url: sha256 of the text}). A new article, or a
        new text of a known one, is stamped with this scan. Returns the urls whose text
        changed (not the new ones)."""
        known = dict(self._db.execute("SELECT url, sha256 FROM sources").fetchall())
        fresh = [(u, h) for u, h in hashes.items() if known.get(u) != h]
        if fresh:
            with transaction(self._db):
                self._db.executemany(
                    """INSERT INTO sources (url, sha256, scan_id) VALUES (?, ?, ?)
                       ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256,
                                                       scan_id = excluded.scan_id""",
                    [(u, h, scan_id) for u, h in fresh],
                )
        return {u for u, _h in fresh if u in known}

    @locked
    def sources_since(self, scan_id: int) -> list[str]:
        """Sources whose current text arrived after scan `scan_id`."""
        rows = self._db.execute(
            "SELECT url FROM sources WHERE scan_id > ? ORDER BY url", (scan_id,)
        ).fetchall()
        return [r[0] for r in rows]

    @locked
    def save_page_text(self, scan_id: int, url: str, text: str, links: Sequence[str] = ()) -> None:
        """Keep the page's full text and the hrefs of all its links, as last analysed."""
        self._db.execute(
            """INSERT INTO page_texts (url_key, scan_id, text, links) VALUES (?, ?, ?, ?)
               ON CONFLICT (url_key) DO UPDATE SET scan_id = excluded.scan_id,
                                                   text = excluded.text, links = excluded.links""",
            (
                url_key_of(url),
                scan_id,
                zlib.compress(text.encode("utf-8"), 6),
                zlib.compress(json.dumps(list(links)).encode("utf-8"), 6),
            ),
        )

    @locked
    def page_snapshot(self, url: str) -> tuple[str, tuple[str, ...]] | None:
        """(full text, link hrefs) of the page at `url` when it was last analysed, if kept."""
        row = self._db.execute(
            "SELECT text, links FROM page_texts WHERE url_key = ?", (url_key_of(url),)
        ).fetchone()
        if row is None:
            return None
        try:
            text = zlib.decompress(row[0]).decode("utf-8")
            links = json.loads(zlib.decompress(row[1])) if row[1] else []
        except (zlib.error, UnicodeDecodeError, ValueError):
            return None
        return text, tuple(str(h) for h in links if isinstance(h, str))

    def page_text(self, url: str) -> str | None:
        """The full text of the page at `url` when it was last analysed, if kept."""
        snapshot = self.page_snapshot(url)
        return None if snapshot is None else snapshot[0]

    @locked
    def evidence(self, url: str) -> bytes | None:
        """Every WARC record kept for `url`, latest first, as one .warc.gz blob."""
        rows = self._db.execute(
            """SELECT file, "offset", length, sha256, payload_sha256, record_id FROM evidence
               WHERE url = ? OR final_url = ? OR url_key = ? ORDER BY id DESC""",
            (url, url, url_key_of(url)),
        ).fetchall()
        if not rows:
            return None
        return b"".join(self.archive.read(EvidenceRecord(*row)) for row in rows)


def _links_from_json(text: str | None) -> tuple[str, ...]:
    """Stored links back as a tuple; anything but a JSON list of strings counts as none."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _state(url: str, row: Sequence[Any]) -> PageState:
    """A PageState from the columns etag, last_modified, content_hash, fetched_at, links,
    cache_control, expires, fingerprint and scan_id, in that order."""
    etag, modified, content_hash, fetched_at, links, cache, expires, fingerprint, scan = row
    return PageState(
        url=url,
        etag=etag,
        last_modified=modified,
        content_hash=content_hash,
        fetched_at=fetched_at,
        links=_links_from_json(links),
        cache_control=cache,
        expires=expires,
        fingerprint=fingerprint,
        scan_id=scan,
    )
