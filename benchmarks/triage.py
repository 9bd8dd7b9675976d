"""Triage benchmark: what per-finding marks (with their evidence) cost a scan's finish and
delivery, and what marking a page costs.

Prints ONE JSON line (the fastest of three runs of each case). One process, one synthetic
scan of N copy pages with five failed findings each, scanned again (a tenth of the findings
with other evidence):
- finish_ms (finish_scan, delivered at once, so the lapse check runs) without marks and with
  every finding marked, and the ratio;
- triage_ms: per `store.triage(url, status)` call (a page's five findings);
- lapsed: how many marks the second scan lapsed (one per changed finding).

    python benchmarks/triage.py [--copies N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from xpostcheck.models import Copy, Finding, Passage, Report, ScanInfo
from xpostcheck.store.sqlite import SqliteStore

RULES = ("attribution", "copyright", "link", "canonical", "ads")


def report(n: int, started: str, changed: bool) -> Report:
    copies = []
    for i in range(n):
        checks = tuple(
            Finding(rule, rule, False, "error", "missing", f"looked for {rule} on {i}")
            if not (changed and i % 10 == 0 and j == 0)
            else Finding(rule, rule, False, "error", "missing", f"other evidence {i}")
            for j, rule in enumerate(RULES)
        )
        copies.append(
            Copy(
                url=f"http://site{i % 20}.example/post/{i}",
                site=f"site{i % 20}.example",
                source_url=f"https://pub.example/{i}",
                coverage=0.9,
                kind="full",
                verdict="violation",
                passages=(Passage(0, 100, 0, 100),),
                checks=checks,
            )
        )
    return Report(ScanInfo(started, started, n, n), tuple(copies))


def run(n: int, marked: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "b.db")
        first = store.begin_scan("k", "2024-05-06T06:00:00+00:00")
        store.finish_scan(first, report(n, "2024-05-06T06:00:00+00:00", False))
        t = time.perf_counter()
        if marked:
            for i in range(n):
                store.triage(f"http://site{i % 20}.example/post/{i}", "licensed")
        triage_ms = (time.perf_counter() - t) * 1000 / n
        second = store.begin_scan("k", "2024-05-13T06:00:00+00:00")
        t = time.perf_counter()
        store.finish_scan(second, report(n, "2024-05-13T06:00:00+00:00", True))
        finish_ms = (time.perf_counter() - t) * 1000
        lapsed = sum(1 for m in store.triage_marks() if m["lapsed"])
        store.close()
    return {"finish_ms": finish_ms, "triage_ms": triage_ms, "lapsed": lapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1000)
    n = parser.parse_args().copies
    # The fastest of three runs each: the machine is shared, and noise only adds time.
    plain = min((run(n, False) for _ in range(3)), key=lambda r: r["finish_ms"])
    marked = min((run(n, True) for _ in range(3)), key=lambda r: r["finish_ms"])
    print(
        json.dumps(
            {
                "copies": n,
                "findings": n * len(RULES),
                "finish_ms_unmarked": round(plain["finish_ms"], 1),
                "finish_ms_marked": round(marked["finish_ms"], 1),
                "finish_ratio": round(marked["finish_ms"] / plain["finish_ms"], 2),
                "triage_ms_per_page": round(marked["triage_ms"], 2),
                "lapsed": marked["lapsed"],
            }
        )
    )


if __name__ == "__main__":
    main()
