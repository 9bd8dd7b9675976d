"""Persistence: scans, pages, findings, triage marks and the WARC evidence archive.

In and out: model records, through the Store protocol; SQLite is the embedded backend."""
