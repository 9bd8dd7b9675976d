"""`xpostcheck discover`: find candidate republishers nobody listed, to feed `scan`.

In: a discovery method and its options (`--access-log FILE...` or `--search PROVIDER`).
Out: candidate sites and pages on stdout (table, JSON, or one URL per line for
`scan --sites-file`), a short summary on stderr. Each method is one function that returns
(candidates, summary as plain data, summary lines); the command only dispatches, renders and writes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from xpostcheck import options
from xpostcheck.cli.discover_search import search_found, search_options
from xpostcheck.cli.output import EXIT_FAILED, EXIT_OK, emit
from xpostcheck.discover.candidates import Candidate

__all__ = ["discover"]

_EXAMPLES = (
    "xpostcheck discover --access-log /var/log/nginx/access.log --publisher-host news.example",
    "xpostcheck discover --access-log access.log.1.gz --access-log access.log -s feed.xml "
    "--since 7d -f json",
    "xpostcheck discover --access-log access.log -s articles.jsonl -f urls -o sites.txt",
    "XPOSTCHECK_SEARXNG_URL=http://127.0.0.1:8888 xpostcheck discover --search searxng "
    "-s articles.jsonl --max-queries 30",
)

Found = tuple[Sequence[Candidate], dict[str, object], list[str]]


def _from_access_logs(logs: Sequence[str], flags: dict[str, Any]) -> Found:
    from xpostcheck.discover.accesslog import LogOptions, discover_from_logs, parse_since
    from xpostcheck.discover.logformats import JSON_FIELDS, JsonFields
    from xpostcheck.discover.noise import NoiseFilter, read_ignore_file
    from xpostcheck.discover.publisher import publisher_hosts
    from xpostcheck.discover.render import describe_log_summary
    from xpostcheck.errors import ConfigError

    own = set(flags["publisher_host"]) | publisher_hosts(flags["sources"])
    if not own:
        raise ConfigError(
            "name the publisher's own hosts with --publisher-host or --sources, so that its "
            "own pages are not listed as candidates"
        )
    hosts, agents = list(flags["ignore_host"]), list(flags["ignore_agent"])
    for path in flags["ignore_file"]:
        more_hosts, more_agents = read_ignore_file(path)
        hosts += more_hosts
        agents += more_agents
    noise = NoiseFilter(allow_private=flags["allow_private_referrers"]).extended(
        own_hosts=own, hosts=hosts, agents=agents
    )
    since = None
    if flags["since"]:
        try:
            since = parse_since(flags["since"])
        except ValueError as exc:
            raise ConfigError(f"--since: {exc}") from None
    fields = JsonFields(
        referrer=tuple(flags["json_referrer"]) or JSON_FIELDS.referrer,
        agent=tuple(flags["json_agent"]) or JSON_FIELDS.agent,
        time=tuple(flags["json_time"]) or JSON_FIELDS.time,
        path=tuple(flags["json_path"]) or JSON_FIELDS.path,
    )
    options = LogOptions(
        noise=noise,
        since=since,
        fmt=flags["log_format"],
        json_fields=fields,
        min_hits=flags["min_hits"],
        pages_per_site=flags["pages_per_site"],
        max_sites=flags["max_sites"],
    )
    stdin = sys.stdin.buffer if "-" in logs else None
    found = discover_from_logs(logs, options, stdin=stdin)
    lines = describe_log_summary(found.summary, len(found.candidates))
    return found.candidates, found.summary.to_dict(), lines


def _positive(_ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.BadParameter("must be at least 1", param=param)
    return value


@click.command(epilog="\b\nExamples:\n" + "\n".join(f"  {line}" for line in _EXAMPLES))
@click.option(
    "--access-log",
    "access_logs",
    multiple=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="FILE",
    help="An access log (combined, W3C extended or JSON Lines; gzipped or not; '-' is the "
    "standard input): the referrers of the publisher's own requests name the copies (repeat "
    "for more).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "combined", "w3c", "json"]),
    default="auto",
    help="The logs' format; auto sniffs each file from its first line.",
)
@click.option(
    "--publisher-host",
    multiple=True,
    metavar="HOST",
    help="A host of the publisher (with its subdomains), never a candidate (repeat for more).",
)
@click.option(
    "--sources",
    "-s",
    multiple=True,
    metavar="SRC",
    help="The publisher's sources, as scan takes them: their hosts are the publisher's own "
    "(a source URL is not fetched; its host is used).",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Only requests from then on: a date or time (UTC unless it says otherwise, "
    "2026-11-01) or a span back from now (30m, 12h, 7d, 2w).",
)
@click.option(
    "--ignore-host",
    multiple=True,
    metavar="HOST",
    help="Not a candidate: a host (with its subdomains) to add to the built-in lists of "
    "search engines, social networks, webmail and feed readers, for referrers and search "
    "results alike (repeat for more).",
)
@click.option(
    "--ignore-agent",
    multiple=True,
    metavar="TEXT",
    help="Drop requests whose User-Agent contains TEXT (any case), besides the built-in bots "
    "and feed readers (repeat for more).",
)
@click.option(
    "--ignore-file",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A file of 'host NAME' and 'agent TEXT' lines (a bare name is a host; # comments).",
)
@click.option(
    "--allow-private-referrers",
    is_flag=True,
    help="Keep referrers (and search results) on private, loopback and link-local addresses "
    "(dropped by default).",
)
@click.option(
    "--json-referrer",
    multiple=True,
    metavar="FIELD",
    help="JSON log field of the "
    "Referer (dotted for nested: httpRequest.referer); default: common names.",
)
@click.option(
    "--json-agent",
    multiple=True,
    metavar="FIELD",
    help="JSON log field of the User-Agent; default: common names.",
)
@click.option(
    "--json-time",
    multiple=True,
    metavar="FIELD",
    help="JSON log field of the time (ISO 8601 or epoch seconds); default: common names.",
)
@click.option(
    "--json-path",
    multiple=True,
    metavar="FIELD",
    help="JSON log field of the requested path or URL (for the evidence); default: common names.",
)
@click.option(
    "--min-hits",
    type=int,
    default=1,
    callback=_positive,
    help="List a site only with at least this many requests.",
)
@click.option(
    "--pages-per-site",
    type=int,
    default=options.DISCOVER_PAGES,
    callback=_positive,
    help="Candidate pages listed per site, the most requested first.",
)
@click.option(
    "--max-sites",
    type=int,
    default=options.DISCOVER_MAX_SITES,
    callback=_positive,
    help="Referring sites counted at once; past it those with the fewest hits are "
    "evicted (memory stays bounded).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json", "urls"]),
    default="table",
    help="A table, JSON, or one URL per line (the sites, for scan --sites-file).",
)
@click.option(
    "--pages",
    is_flag=True,
    help="With --format urls: list the candidate pages (for scan --url) instead of the sites.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the candidates here ('-' is stdout); the summary goes to stderr.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@search_options
def discover(
    access_logs: tuple[str, ...],
    fmt: str,
    pages: bool,
    output: str | None,
    quiet: bool,
    **flags: Any,
) -> None:
    """Find candidate republishers nobody listed, to scan next.

    With --access-log, the publisher's own access logs: copies load the publisher's images,
    pixel or assets, and readers click through, so the Referer of those requests names the
    copy. Referrers on the publisher's own hosts, search engines, social networks, webmail,
    feed readers and bots are dropped; the rest are grouped by site and ranked by requests and
    distinct pages. Malformed lines are counted and skipped.

    With --search PROVIDER (searxng or brave), a few distinctive sentences of each article of
    --sources are searched for on the web, within a query budget; result pages not on the
    publisher's own hosts, search engines, social networks and the other ignored hosts are
    grouped by site and ranked.

    \b
    Exit codes: 0 done (even with no candidate), 2 usage or input error,
    3 every search query failed.
    """
    from xpostcheck.discover.render import render

    if access_logs and flags.get("search"):
        raise click.UsageError("give one discovery method: --access-log FILE or --search PROVIDER")
    if access_logs:
        candidates, summary, lines = _from_access_logs(access_logs, flags)
    elif flags.get("search"):
        candidates, summary, lines = search_found(flags)
    else:
        raise click.UsageError(
            "give a discovery method: --access-log FILE or --search PROVIDER (with --sources)"
        )
    text = render(fmt, candidates, summary, pages=pages)
    if text or (output and output != "-"):  # no candidate as URLs: an empty output, no blank line
        emit(text, output)
    if not quiet:
        for line in lines:
            click.echo(line, err=True)
    sys.exit(EXIT_FAILED if summary.get("failed") else EXIT_OK)
