"""The in-process runner: a scan's site units, side by side in threads.

In: a `Scan` and its `SiteUnit`s. Out: one `SiteResult` per unit, in the units' order.

Why a thread per unit, each with its own Crawler: a unit is the job a worker will take from a
queue later, so in-process it must run the same way, whole (crawl, analysis, checks, records),
and its copies are judged as soon as its own crawl ends. Throughput stays that of one crawler
over every site: politeness is per host (at most one request in flight, the delay from the end
of the previous one), and a unit's hosts are its own (sites on one host form one unit), so the
units together keep as many hosts busy as one crawler did; the Fetcher they share
(`begin.SharedFetcher`) holds them to --threads requests in flight, as one crawler's pool of
--threads fetch threads did; and a unit waiting out its host's delay holds a thread but no
fetch slot. Up to `MAX_UNITS_PER_THREAD` units per fetch thread run at once (enough for a
latency:delay of 1:16); more wait their turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from xpostcheck.pipeline.begin import Scan
from xpostcheck.pipeline.site import SiteResult, SiteUnit, scan_site

MAX_UNITS_PER_THREAD = 16


def run_sites(scan: Scan, units: Sequence[SiteUnit]) -> list[SiteResult]:
    """Run every unit; the first failure stops the others (at their next page) and is raised."""
    if not units:
        return []
    limit = min(len(units), max(1, scan.settings.threads) * MAX_UNITS_PER_THREAD)
    pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="xpostcheck-site")
    try:
        futures: list[Future[SiteResult]] = [pool.submit(scan_site, scan, u) for u in units]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future in done and (exc := future.exception()) is not None:
                raise exc
        return [f.result() for f in futures]
    except BaseException:
        scan.stopping.set()  # the other units stop at their next page
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
