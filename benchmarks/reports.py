"""Store and report benchmark: what history, evidence and each format cost, side by side.

Prints ONE JSON line. Everything runs in one process on one synthetic scan of N copy pages
(each with five findings and a 20 KB body) plus N pages without copies:
- record_page: ms per page without evidence, with WARC evidence, and the ratio;
- finish_scan: ms for the first scan (nothing to compare) and the second (history against the
  first, with a fifth of the findings changed), and the ratio;
- previous_copies / page_state: ms per call (the carry-over path of an unchanged page);
- render: ms and bytes per format for the second scan's report, and html/json ratios.

    python benchmarks/reports.py [--copies N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from xpostcheck.models import Copy, Fetched, Finding, Passage, Report, ScanInfo, SourceArticle
from xpostcheck.report.base import RenderContext
from xpostcheck.report.formats import FORMATS
from xpostcheck.store.sqlite import SqliteStore

KINDS = ("attribution", "copyright_notice", "link_to_original", "canonical", "non_commercial")


def fetched(i: int, copy: bool, at: str) -> Fetched:
    body = (f"<html><body><p>page {i}</p>" + "word " * 4000 + "</body></html>").encode()
    url = f"http://site{i % 20}.example/{'post' if copy else 'page'}/{i}"
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"{i}"')),
        body=body,
        text=body.decode(),
        encoding="utf-8",
        fetched_at=at,
        content_hash=hashlib.sha256(body).hexdigest(),
    )


def copies(n: int, flip: int) -> tuple[Copy, ...]:
    out = []
    for i in range(n):
        checks = tuple(
            Finding(
                f"r-{k}",
                kind,
                passed=((i + k + flip) % 5 != 0),
                severity="error",
                message=f"{kind} message",
                evidence="evidence line",
            )
            for k, kind in enumerate(KINDS)
        )
        out.append(
            Copy(
                url=f"http://site{i % 20}.example/post/{i}",
                site=f"site{i % 20}.example",
                source_url=f"https://pub.example/a/{i % 200}",
                coverage=0.9,
                kind="full",
                verdict="violation" if any(not f.passed for f in checks) else "compliant",
                passages=(Passage(0, 500, 100, 600), Passage(600, 1500, 700, 1600)),
                checks=checks,
                title=f"Copy {i}",
                source_title=f"Source {i % 200}",
            )
        )
    return tuple(out)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1000)
    n = parser.parse_args().copies
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        figures: dict[str, Any] = {"copies": n}

        s1 = store.begin_scan("k", "2024-01-01T00:00:00+00:00")
        plain_ms, _ = timed(
            lambda: [
                store.record_page(s1, fetched(i, False, "t1"), is_copy=False) for i in range(n)
            ]
        )
        warc_ms, _ = timed(
            lambda: [store.record_page(s1, fetched(i, True, "t1"), is_copy=True) for i in range(n)]
        )
        figures["record_page_ms"] = round(plain_ms / n, 3)
        figures["record_page_with_warc_ms"] = round(warc_ms / n, 3)
        figures["warc_overhead_ratio"] = round(warc_ms / plain_ms, 2)

        info = ScanInfo("2024-01-01T00:00:00+00:00", "2024-01-01T00:10:00+00:00", 200, 2 * n)
        first_ms, _ = timed(lambda: store.finish_scan(s1, Report(scan=info, copies=copies(n, 0))))
        s2 = store.begin_scan("k", "2024-01-08T00:00:00+00:00")
        info2 = replace(info, started="2024-01-08T00:00:00+00:00")
        second_ms, report = timed(
            lambda: store.finish_scan(s2, Report(scan=info2, copies=copies(n, 1)))
        )
        figures["finish_scan_first_ms"] = round(first_ms, 1)
        figures["finish_scan_with_history_ms"] = round(second_ms, 1)
        figures["history_ratio"] = round(second_ms / first_ms, 2)
        figures["new_findings"] = sum(1 for c in report.copies for f in c.checks if f.new)
        figures["resolved"] = len(report.resolved)

        urls = [f"http://site{i % 20}.example/post/{i}" for i in range(0, n, max(1, n // 200))]
        carry_ms, _ = timed(lambda: [store.previous_copies(u) for u in urls])
        state_ms, _ = timed(lambda: [store.page_state(u) for u in urls])
        figures["previous_copies_ms"] = round(carry_ms / len(urls), 3)
        figures["page_state_ms"] = round(state_ms / len(urls), 3)
        evidence_ms, blob = timed(lambda: store.evidence(urls[0]))
        figures["evidence_export_ms"] = round(evidence_ms, 3)
        figures["evidence_record_bytes"] = len(blob or b"")

        text = "word " * 4000
        ctx = RenderContext(
            sources={
                f"https://pub.example/a/{j}": SourceArticle(f"https://pub.example/a/{j}", "t", text)
                for j in range(200)
            },
            pages={c.url: text for c in report.copies},
        )
        for name, fmt in FORMATS.items():
            ms, out = timed(lambda fmt=fmt: fmt.render(report, ctx))
            figures[f"render_{name}_ms"] = round(ms, 1)
            figures[f"render_{name}_bytes"] = len(out.encode())
        figures["html_vs_json_time_ratio"] = round(
            figures["render_html_ms"] / figures["render_json_ms"], 2
        )
        figures["html_vs_json_size_ratio"] = round(
            figures["render_html_bytes"] / figures["render_json_bytes"], 2
        )
        store.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
