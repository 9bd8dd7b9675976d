"""`scan --warc FILE|URL... --queue`: one job per WARC file on the workers.

In: Settings with `warc` inputs. Out: the jobs to queue (one unit per file, with the lock of
the host a URL is streamed from), the body a worker runs for one file (`scan_warc_file`: the
WARC scan of that file, `pipeline.warcscan.scan_warcs`, as JSON for `xpostcheck_q_units`), and
what the finishing job and the waiting command do over all the files: `merge_results` (a page
captured in several files is checked once, from the first file given, as `scan --warc` does)
and `candidates_of` (one list of candidate sites over all files).

A local file is read by the worker that takes its job, at the same absolute path: it must be
readable there (a shared folder). The command refuses a file it cannot read itself; a worker
that cannot read it reports the file as skipped with its host name, never as a lost report.
A URL is streamed by the worker through its politeness layer. Each file's copies are judged
with the site profiles of that file's pages (the in-process scan pools a site's pages over
all files): see docs/deploy.md.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from xpostcheck.config import Settings
from xpostcheck.errors import ConfigError
from xpostcheck.models import ArchiveCandidate, Report, ScanInfo, SkipCode, Skipped
from xpostcheck.pages.warc import is_remote, warc_name
from xpostcheck.pipeline.begin import Scan
from xpostcheck.pipeline.site import SiteResult, SiteUnit
from xpostcheck.queue import codec
from xpostcheck.queue.defer import WARC_TASK, host_lock, unit_key
from xpostcheck.report.jsonfmt import report_from_dict, report_to_dict

__all__ = [
    "QueuedJob",
    "candidates_of",
    "check_readable",
    "merge_results",
    "scan_warc_file",
    "unreadable_here",
    "warc_jobs",
    "warc_key",
    "warc_settings",
    "with_archive_facts",
]


@dataclasses.dataclass(frozen=True)
class QueuedJob:
    """One job to queue: its unit, the unit's JSON (a WARC file's names the file), its task,
    and the lock of the host it fetches from (None for a local WARC file)."""

    unit: SiteUnit
    data: dict[str, Any]
    task: str
    lock: str | None


def warc_settings(settings: Settings) -> Settings:
    """The settings of a scan of WARC inputs, as `run_warc_scan` makes them: the archives
    stand for the sites (the scan's key, its report, the addresses the fetcher may reach),
    local files by their absolute paths, so that every worker reads the same file."""
    names = tuple(dict.fromkeys(warc_name(w) for w in settings.warc))
    return dataclasses.replace(settings, sites=(), urls=names, warc=names)


def check_readable(warcs: Sequence[str]) -> None:
    """Refuse, before anything is queued, a local WARC file this machine cannot read."""
    for spec in warcs:
        if is_remote(spec):
            continue
        why = unreadable_here(spec)
        if why:
            raise ConfigError(
                f"cannot read WARC file: {why}; with --queue a local file must be readable "
                "at this same path on every worker (a shared folder), or give its URL",
                where=spec,
            )


def unreadable_here(path: str) -> str:
    """Why this process cannot read WARC file `path` ("" when it can)."""
    if not os.path.exists(path):
        return "no such file"
    if os.path.isdir(path):
        return "a folder, not a file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return ""


def warc_key(spec: str) -> str | None:
    """The host key a WARC URL is streamed from (None for a local file)."""
    if not is_remote(spec):
        return None
    return unit_key(SiteUnit((), (spec,))) or urlsplit(spec).netloc


def warc_jobs(settings: Settings) -> list[QueuedJob]:
    """One job per WARC input of `warc_settings(settings)`."""
    jobs = []
    for spec in settings.warc:
        unit = SiteUnit((), (spec,))
        key = warc_key(spec)
        data = {**codec.unit_to_json(unit), "warc": spec}
        jobs.append(QueuedJob(unit, data, WARC_TASK, host_lock(key) if key else None))
    return jobs


DUPLICATE = SkipCode.DUPLICATE


def _empty(candidates: Sequence[ArchiveCandidate] = ()) -> Report:
    """A report holding only `candidates`: their JSON form is the report contract's."""
    info = ScanInfo(started="", finished="", sources=0, pages_fetched=0)
    return Report(scan=info, copies=(), skipped=(), candidates=tuple(candidates))


def _result_json(result: SiteResult, candidates: Sequence[ArchiveCandidate]) -> dict[str, Any]:
    data = codec.result_to_json(result)
    as_report = report_to_dict(_empty(candidates))
    data["candidates"] = as_report.get("candidates", [])
    return data


def scan_warc_file(scan: Scan, unit: SiteUnit, spec: str) -> dict[str, Any]:
    """The WARC scan of one file, on a worker, as the unit's result JSON (with the file's
    candidates); what its pre-filter counted is noted in the store (`note_counts`)."""
    from xpostcheck.pipeline.warcscan import scan_warcs
    from xpostcheck.pipeline.warcseen import note_counts

    if not is_remote(spec):
        why = unreadable_here(spec)
        if why:
            reason = (
                f"worker {socket.gethostname()} cannot read this WARC file ({why}): with "
                "--queue a local file must be readable at the same path on every worker "
                "(a shared folder), or give its URL"
            )
            skipped = (Skipped(spec, reason, SkipCode.SOURCE),)
            return _result_json(SiteResult(unit, (), (), skipped, {}, 0, 0), ())
    found = scan_warcs(scan, [spec])  # records the pages it looked at, as in one process
    note_counts(scan, spec, found.looked, found.analysed)  # summed in the report
    result = dataclasses.replace(found.site, unit=unit)
    return _result_json(result, found.candidates)


def candidates_of(
    rows: Sequence[Mapping[str, Any]], results: Sequence[SiteResult]
) -> tuple[ArchiveCandidate, ...]:
    """The candidate sites over all files: from each unit's result JSON (`rows`, in file
    order), with the copies counted from the merged results (a page captured in several
    files counts once)."""
    info = report_to_dict(_empty())
    copied: dict[str, set[str]] = {}
    for r in results:
        for c in r.copies:
            copied.setdefault(_site_root(c.url), set()).add(c.url)
    linking: dict[str, int] = {}
    examples: dict[str, str] = {}
    for row in rows:
        info["candidates"] = list(row.get("candidates", ()))
        for cand in report_from_dict(info).candidates:
            linking[cand.site] = linking.get(cand.site, 0) + cand.linking
            examples.setdefault(cand.site, cand.example)
    out = []
    for site in set(copied) | set(linking):
        pages = copied.get(site, set())
        links = linking.get(site, 0)
        if not pages and not links:
            continue
        example = min(pages) if pages else examples.get(site, "")
        out.append(ArchiveCandidate(site, len(pages), links, example))
    out.sort(key=lambda c: (-c.copies, -c.linking, c.site))
    return tuple(out)


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def merge_results(results: Sequence[SiteResult]) -> list[SiteResult]:
    """The files' results, in file order, with a page that an earlier file captured too
    reported as a skipped duplicate instead of a second copy (the first capture is checked,
    as `scan --warc` does in one process)."""
    seen: set[str] = set()
    out = []
    for result in results:
        dupes: dict[str, str] = {}
        kept = []
        for c in result.copies:
            if c.url in seen:
                dupes.setdefault(c.url, c.record)
            else:
                kept.append(c)
        seen.update(c.url for c in result.copies)
        if not dupes:
            out.append(result)
            continue
        skips = tuple(
            Skipped(
                url, f"captured again ({record}); the first capture was checked", SkipCode.DUPLICATE
            )
            for url, record in dupes.items()
        )
        kept_ids = set(map(id, kept))
        out.append(
            dataclasses.replace(
                result,
                copies=tuple(kept),
                carried=tuple(c for c in result.carried if id(c) in kept_ids),
                skipped=result.skipped + skips,
                texts={u: t for u, t in result.texts.items() if u not in dupes},
                fetched=max(0, result.fetched - len(dupes)),
            )
        )
    return out


def with_archive_facts(
    report: Report, results: Sequence[SiteResult], candidates: Sequence[ArchiveCandidate]
) -> Report:
    """The report read back from the store, with what the store does not keep of a scan of
    WARC files: each copy's record (`file#offset <record id>`) and the candidate sites."""
    records = {(c.url, c.source_url): c.record for r in results for c in r.copies if c.record}
    copies = tuple(
        dataclasses.replace(c, record=records.get((c.url, c.source_url), c.record))
        for c in report.copies
    )
    return dataclasses.replace(report, copies=copies, candidates=tuple(candidates))
