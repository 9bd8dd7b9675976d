"""Access-log discovery on a generated log: accuracy, lines per second and peak memory at two
sizes side by side. Prints ONE JSON line.

    python benchmarks/discover.py                       # 200,000 and 1,000,000 lines
    python benchmarks/discover.py --sizes 50000 200000  # quicker
    python benchmarks/discover.py --gzip                # the log gzipped (slower to read)

The log (combined format, generated at run time in a temporary folder, deleted after) mixes:
copies on 40 republisher hosts (each with thousands of distinct pages, so the per-site caps are
reached), the publisher's own pages, search engines with a unique query per request, social
networks, webmail and feed readers, bots (some with referrers on hosts nobody else names),
requests without a referrer, private-address referrers, about 1% malformed lines, and a long
tail of sites seen once each (3%: 6,000 at 200,000 lines, 30,000 at a million). The run caps
the sites counted at 5,000 (`--max-sites`; the tool's default is 20,000) so that both sizes pass
the cap: the smallest sites are evicted, and the republishers must survive.

Each size runs in its own process, reading the first N lines, so that peak memory (ru_maxrss)
is that size's own. Figures per size: lines per second (wall clock and CPU), peak RSS in MB and
the baseline of the same process before reading, whether every republisher host was found
(`missed`), which noise hosts were listed (`noise_listed`, should be empty), whether the
malformed lines were all counted, and how many long-tail sites were listed and evicted.
"peak_ratio" is the largest size's peak over the smallest's: bounded memory keeps it near 1
while the lines grow fivefold.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

PUBLISHER = "ledger.example"
BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
)
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.32.3",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)
WORDS = tuple(
    [
        "river",
        "valley",
        "harbor",
        "county",
        "metro",
        "civic",
        "lake",
        "north",
        "south",
        "prairie",
        "coast",
        "hill",
        "city",
        "daily",
        "voice",
        "press",
        "post",
        "herald",
        "tribune",
        "ledger",
        "digest",
        "journal",
        "bulletin",
        "echo",
        "review",
    ]
)
REPUBLISHERS = tuple(
    f"{'www.' if i % 3 == 0 else ''}{WORDS[i % 13]}{WORDS[13 + i % 12]}{i}.example"
    for i in range(40)
)
ASSETS = ("/pixel.gif", "/img/lead.jpg", "/img/map.png", "/static/embed.js", "/2026/story")


def _clf(rng: random.Random, second: int, referrer: str, agent: str) -> str:
    day, rest = divmod(second, 86400)
    hour, rest = divmod(rest, 3600)
    minute, sec = divmod(rest, 60)
    when = f"{1 + day % 28:02d}/Nov/2026:{hour:02d}:{minute:02d}:{sec:02d} +0000"
    ip = f"203.0.{rng.randrange(113, 114)}.{rng.randrange(1, 255)}"
    asset = ASSETS[rng.randrange(len(ASSETS))]
    size = rng.randrange(40, 90000)
    return f'{ip} - - [{when}] "GET {asset} HTTP/1.1" 200 {size} "{referrer}" "{agent}"'


def generate(out: TextIO, lines: int, seed: int = 16) -> dict[str, int]:
    """Write `lines` lines; return how many of each kind, and the malformed count per prefix
    size is recomputed by the reader from the kinds written (see `malformed_in`)."""
    rng = random.Random(seed)
    weights = [1.0 / (1 + i) ** 0.7 for i in range(len(REPUBLISHERS))]
    kinds = ("copy", "own", "search", "social", "mail-feed", "bot", "none", "private", "bad")
    kinds += ("tail",)
    shares = (26, 22, 15, 10, 3, 8, 10, 2, 1, 3)
    counts = dict.fromkeys(kinds, 0)
    for n in range(lines):
        kind = rng.choices(kinds, shares)[0]
        counts[kind] += 1
        browser = BROWSERS[rng.randrange(len(BROWSERS))]
        second = n // 12
        if kind == "copy":
            host = rng.choices(REPUBLISHERS, weights)[0]
            ref = f"https://{host}/{2020 + n % 7}/{rng.randrange(20000)}-story.html"
            if rng.random() < 0.2:
                ref += f"?utm_source=share&fbclid={rng.getrandbits(40):x}"
            line = _clf(rng, second, ref, browser)
        elif kind == "own":
            sub = ("", "www.", "m.", "images.")[rng.randrange(4)]
            line = _clf(rng, second, f"https://{sub}{PUBLISHER}/{rng.randrange(5000)}", browser)
        elif kind == "search":
            engine = ("www.google.com", "www.google.de", "www.bing.com", "duckduckgo.com")[n % 4]
            line = _clf(rng, second, f"https://{engine}/search?q=q{rng.getrandbits(48):x}", browser)
        elif kind == "social":
            ref = (
                f"https://l.facebook.com/l.php?u={rng.getrandbits(40):x}",
                f"https://t.co/{rng.getrandbits(30):x}",
                f"https://www.reddit.com/r/news/comments/{rng.getrandbits(30):x}/",
                "https://www.linkedin.com/",
            )[n % 4]
            line = _clf(rng, second, ref, browser)
        elif kind == "mail-feed":
            ref = ("https://mail.google.com/mail/u/0/", "https://feedly.com/i/latest")[n % 2]
            line = _clf(rng, second, ref, browser)
        elif kind == "bot":
            # Bots with referrers on copies and on spam hosts nobody else names.
            host = REPUBLISHERS[n % 40] if n % 2 else f"spam{rng.randrange(100000)}.example"
            line = _clf(rng, second, f"https://{host}/", BOTS[n % len(BOTS)])
        elif kind == "none":
            line = _clf(rng, second, "-", browser)
        elif kind == "tail":
            # A long tail of sites seen once: real referrers, but past the site cap at 1M lines.
            ref = f"https://tail{rng.getrandbits(40):x}.example/post.html"
            line = _clf(rng, second, ref, browser)
        elif kind == "private":
            line = _clf(rng, second, f"http://192.168.{n % 256}.{n % 250 + 1}/intranet", browser)
        else:
            good = _clf(rng, second, "https://broken.example/", browser)
            line = good[: rng.randrange(5, 40)] if n % 2 else good.replace("[", "", 1)
        out.write(line + "\n")
    return counts


def run_one(path: str, expected_malformed: int, max_sites: int) -> dict[str, Any]:
    from xpostcheck.discover.accesslog import LogOptions, discover_from_logs
    from xpostcheck.discover.noise import NoiseFilter

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    noise = NoiseFilter().extended(own_hosts=[PUBLISHER])
    options = LogOptions(noise=noise, max_sites=max_sites)
    start, cpu_start = time.perf_counter(), time.process_time()
    found = discover_from_logs([path], options)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    listed = {c.site.split("/")[2] for c in found.candidates}
    noise = listed - set(REPUBLISHERS)
    summary = found.summary
    return {
        "lines": summary.lines,
        "seconds": round(seconds, 2),
        "lines_per_s": round(summary.lines / seconds),
        # CPU time too: on a shared machine the wall clock also counts other processes' turns.
        "lines_per_cpu_s": round(summary.lines / cpu),
        "peak_rss_mb": round(peak, 1),
        "baseline_mb": round(baseline, 1),
        "candidates": len(found.candidates),
        "missed": sorted(set(REPUBLISHERS) - listed),
        "noise_listed": sorted(h for h in noise if not h.startswith("tail"))[:10],
        "tail_listed": sum(1 for h in listed if h.startswith("tail")),
        "malformed": summary.malformed,
        "malformed_all_counted": summary.malformed == expected_malformed,
        "dropped": dict(summary.dropped),
        "sites_evicted": summary.sites_evicted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--gzip", action="store_true", help="gzip the log (compression level 1)")
    parser.add_argument("--max-sites", type=int, default=5000, help="the discovery's site cap")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, malformed, max_sites = args.child
        print(json.dumps(run_one(path, int(malformed), int(max_sites))))
        return
    sizes = sorted(args.sizes)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="xpostcheck-discover-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / (f"access-{size}.log" + (".gz" if args.gzip else ""))
            if args.gzip:
                with gzip.open(path, "wt", compresslevel=1) as zipped:
                    counts = generate(zipped, size)
            else:
                with open(path, "w", encoding="utf-8") as plain:
                    counts = generate(plain, size)
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(path),
                    str(counts["bad"]),
                    str(args.max_sites),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[str(size)] = json.loads(child.stdout)
            path.unlink()
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    print(
        json.dumps(
            {
                "benchmark": "discover-access-log",
                "gzip": args.gzip,
                "republisher_hosts": len(REPUBLISHERS),
                "max_sites": args.max_sites,
                "all_found": all(not r["missed"] for r in results.values()),
                "no_noise_listed": all(not r["noise_listed"] for r in results.values()),
                "malformed_all_counted": all(r["malformed_all_counted"] for r in results.values()),
                "peak_ratio": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2),
                "lines_ratio": round(large["lines"] / small["lines"], 2),
                "sizes": results,
            }
        )
    )


if __name__ == "__main__":
    main()
