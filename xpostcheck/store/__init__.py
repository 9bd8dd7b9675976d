"""Persistence: scans, pages, findings, triage marks and the WARC evidence archive.

In and out: model records, through the narrow protocols of `store.base` (`Store` combines
them); `open_store(spec)` picks the backend. SQLite (`store.sqlite`) is the embedded one; its
schema and migrations are in `store.schema`, the WARC folder archive in `store.evidence`.
History and triage rules are pure functions in `xpostcheck.pipeline.history`.
"""

from xpostcheck.store.backend import open_store
from xpostcheck.store.base import (
    TRIAGE_STATUSES,
    CopyLog,
    EvidenceArchive,
    PageLog,
    ScanLog,
    ScanSummary,
    Store,
    TriageLog,
)

__all__ = [
    "TRIAGE_STATUSES",
    "CopyLog",
    "EvidenceArchive",
    "PageLog",
    "ScanLog",
    "ScanSummary",
    "Store",
    "TriageLog",
    "open_store",
]
