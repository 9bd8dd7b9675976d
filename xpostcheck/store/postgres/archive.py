"""WARC evidence kept in the database: one gzip-compressed WARC record per row of
`warc_records` (bytea), written by whichever machine fetched the page.

In: a Fetched page and the store's pooled connection. Out: an `EvidenceRecord` naming the row
(`file` is `warc_records/<id>`), and the record's bytes back, checked by SHA-256. Rows are
inserted, never appended to a shared file, so any number of workers write at once without
clobbering each other, and the evidence is backed up with the database. One record per scan
and URL: a retried job's capture replaces the first (as the page's row does), leaving no
orphan record behind.
"""

from __future__ import annotations

import hashlib

from xpostcheck.errors import StoreError
from xpostcheck.models import Fetched
from xpostcheck.store.evidence import EvidenceRecord, warc_record
from xpostcheck.store.postgres.connection import PgConnection

__all__ = ["WarcRows"]

_PREFIX = "warc_records/"


class WarcRows:
    """The `EvidenceArchive` of the PostgreSQL store."""

    def __init__(self, db: PgConnection, where: str) -> None:
        self._db = db
        self._where = where

    def write(self, scan_id: int, fetched: Fetched) -> EvidenceRecord:
        data, payload_hex, record_id = warc_record(fetched)
        with self._db:
            row = self._db.execute(
                """INSERT INTO warc_records (scan_id, url, data) VALUES (?, ?, ?)
                   ON CONFLICT (scan_id, url) DO UPDATE SET data = excluded.data
                   RETURNING id""",
                (scan_id, fetched.url, data),
            ).fetchone()
        return EvidenceRecord(
            file=f"{_PREFIX}{row[0]}",
            offset=0,
            length=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            payload_sha256=payload_hex,
            record_id=record_id,
        )

    def read(self, record: EvidenceRecord) -> bytes:
        ident = record.file.removeprefix(_PREFIX)
        with self._db:
            row = None
            if record.file.startswith(_PREFIX) and ident.isdigit():
                row = self._db.execute(
                    "SELECT data FROM warc_records WHERE id = ?", (int(ident),)
                ).fetchone()
        if row is None:
            raise StoreError(
                f"the WARC record {record.file} is missing from the database", where=self._where
            )
        data = bytes(row[0])[record.offset : record.offset + record.length]
        if len(data) != record.length or hashlib.sha256(data).hexdigest() != record.sha256:
            raise StoreError(
                f"the WARC record {record.file} does not match its recorded SHA-256; it was "
                "changed after it was written",
                where=self._where,
            )
        return data
