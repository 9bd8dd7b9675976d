"""Hostile pages: peak memory and per-page analysis time. Prints ONE JSON line.

    python benchmarks/hostile.py                        # every page, one process each
    python benchmarks/hostile.py --pages ads links      # some of them
    python benchmarks/hostile.py --before before.json   # adds after/before ratios

The pages, generated at run time (nothing is saved):
- "ads": 3 MB of visible text repeating an ad network's name (`doubleclick.net`), no tag in
  between; one real ad script at the very end (the non_commercial check must find it);
- "links": a 9.5 MB page with 600,000 links;
- "nested": 100,000 nested <div>s around a copied article.

Each page runs in its own process (so that peak memory, ru_maxrss, is that page's own) through
what a scan does with a page: extraction (`extract_html`), matching against a small index that
holds the copied article, every check kind (a rule per kind, default options), and the site
profile. Figures per page: seconds per stage, the slowest check, links and resources kept,
profile entries, and peak RSS in MB (the process's, the interpreter and imports included; the
"baseline_mb" figure is the same process before the page was built). With --before (the JSON
line of an earlier run, for example on the main branch), "ratio" gives after/before for
analysis time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

ORIGINAL = "https://www.globalresearch.ca/harbour-cranes/5880001"
ARTICLE = (
    "The cranes along the eastern quay of Port Velden stood motionless on Tuesday as "
    "dockworkers entered the third week of a strike over shift rotations. Union "
    "representatives said talks with the port authority had stalled over a proposal to "
    "replace night crews with remotely operated gantries. Shipping agents estimate that each "
    "idle day costs regional exporters several million in demurrage."
)
PAGES = ("ads", "links", "nested")


def build(name: str) -> str:
    article = f"<article><h1>Harbour cranes</h1><p>{ARTICLE}</p></article>"
    if name == "ads":
        filler = "doubleclick.net " * (3 * 1024 * 1024 // 16)
        ad = '<script src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>'
        return f"<html><body>{article}<p>{filler}</p>{ad}</body></html>"
    if name == "links":
        links = "".join(f'<a href="/p/{i}">{i % 10}</a>' for i in range(600_000))
        return f"<html><body>{article}<div>{links}</div></body></html>"
    if name == "nested":
        depth = 100_000
        return f"<html><body>{'<div>' * depth}{article}{'</div>' * depth}</body></html>"
    raise SystemExit(f"unknown page {name!r}; choose from {', '.join(PAGES)}")


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def one(name: str) -> dict[str, Any]:
    """Analyse one hostile page in this process."""
    from xpostcheck.checks.registry import KINDS, run_checks
    from xpostcheck.checks.siteprofile import SiteProfile
    from xpostcheck.extract.page import extract_html
    from xpostcheck.match.index import MatchConfig, SourceIndex
    from xpostcheck.models import Rule, RuleSet, SourceArticle

    source = SourceArticle(url=ORIGINAL, title="Harbour cranes", text=ARTICLE)
    index = SourceIndex(MatchConfig())
    index.add([source])
    index.flush()
    baseline = rss_mb()
    html = build(name)
    url = "https://republisher.example/hostile"
    out: dict[str, Any] = {"bytes": len(html.encode()), "baseline_mb": baseline}
    t0 = time.perf_counter()
    page = extract_html(url, html)
    t1 = time.perf_counter()
    matches = index.match(page.full_text)
    t2 = time.perf_counter()
    profile = SiteProfile()
    profile.add(page, is_copy=bool(matches))
    t3 = time.perf_counter()
    checks: dict[str, float] = {}
    for kind in KINDS:
        rule = Rule(id=kind, kind=kind, severity="error", options={})
        ruleset = RuleSet(name="bench", publisher="Global Research", rules=(rule,))
        match = matches[0] if matches else None
        if match is None:
            break
        c0 = time.perf_counter()
        finding = run_checks(ruleset, page, source, match, profile=profile)[0]
        checks[kind] = round(time.perf_counter() - c0, 3)
        if kind == "non_commercial":
            out["non_commercial_passed"] = finding.passed
    t4 = time.perf_counter()
    slowest = max(checks, key=checks.__getitem__) if checks else None
    out.update(
        extract_s=round(t1 - t0, 3),
        match_s=round(t2 - t1, 3),
        profile_s=round(t3 - t2, 3),
        checks_s=round(t4 - t3, 3),
        analysis_s=round(t4 - t0, 3),
        slowest_check=slowest,
        slowest_check_s=checks.get(slowest, 0.0) if slowest else 0.0,
        copies=len(matches),
        links_kept=len(page.links),
        resources_kept=len(page.resources),
        profile_entries=list(profile.entries()),
        peak_mb=rss_mb(),
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=PAGES)
    parser.add_argument("--one", choices=PAGES, help=argparse.SUPPRESS)
    parser.add_argument("--before", help="the JSON line of an earlier run, for ratios")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    results: dict[str, Any] = {}
    for name in args.pages:
        run = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            results[name] = {"error": (run.stderr.strip().splitlines() or ["?"])[-1]}
            continue
        results[name] = json.loads(run.stdout)
    line: dict[str, Any] = {"benchmark": "hostile", "pages": results}
    if args.before:
        with open(args.before, encoding="utf-8") as f:
            before = json.load(f)["pages"]
        ratio: dict[str, Any] = {}
        for name, now in results.items():
            then = before.get(name, {})
            ratio[name] = {
                key: round(now[key] / then[key], 3)
                for key in ("analysis_s", "peak_mb")
                if then.get(key) and now.get(key) is not None
            }
        line["ratio"] = ratio
    print(json.dumps(line))


if __name__ == "__main__":
    main()
