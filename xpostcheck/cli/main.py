"""The command line. The only module that imports click, prints or exits.

Exit codes: 0 scanned, no violations; 1 violations found; 2 usage, config or rule-file error
(nothing was scanned); 3 the scan itself failed.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from xpostcheck import __version__
from xpostcheck.errors import ScanFailed, XPostCheckError

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
log = logging.getLogger("xpostcheck")

# Libraries that log about single pages (a page they cannot parse, a date they cannot read);
# the report already lists what became of every page.
_LIBRARY_LOGGERS = ("trafilatura", "htmldate", "courlan", "charset_normalizer")


class _Group(click.Group):
    """Turns every XPostCheckError into one line on stderr and its exit code, and any other
    exception into one line and exit 3 (the traceback only with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XPostCheckError as exc:
            click.echo(f"xpostcheck: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("xpostcheck: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors and exits
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # stdout closed early (| head): click's main() ends quietly
            if ctx.params.get("debug"):
                click.echo(traceback.format_exc().rstrip("\n"), err=True)
            what = " ".join(f"{type(exc).__name__}: {exc}".split())
            click.echo(
                f"xpostcheck: internal error: {what} (please report; --debug shows the traceback)",
                err=True,
            )
            ctx.exit(EXIT_FAILED)


def _configure_logging(verbose: int, *, quiet: bool = False) -> None:
    """Our own warnings unless quiet; the libraries' warnings (never their chatter), none when
    quiet."""
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ours = logging.ERROR if quiet else logging.WARNING - 10 * min(verbose, 2)
    logging.getLogger("xpostcheck").setLevel(ours)
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1 if quiet else logging.WARNING)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xpostcheck")
@click.option("-v", "--verbose", count=True, help="Log more on stderr (-vv for debug).")
@click.option(
    "--debug",
    is_flag=True,
    envvar="XPOSTCHECK_DEBUG",
    help="Show the traceback of an internal error (or set XPOSTCHECK_DEBUG=1).",
)
def main(verbose: int, debug: bool) -> None:
    """Find republished copies of a publisher's articles and check them against its
    cross-post rules."""
    _configure_logging(verbose)


# --- scan --------------------------------------------------------------------------------


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, str], None] | None]:
    """A live progress line on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    counts = {"fetched": 0, "copy": 0, "skipped": 0}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("starting")

        def update(event: str, detail: str) -> None:
            if event == "sources":
                bar.update(task, description=f"indexed {detail} source articles; crawling")
                return
            counts[event] = counts.get(event, 0) + 1
            bar.update(
                task,
                description=(
                    f"{counts['fetched']} pages, {counts['copy']} with copies, "
                    f"{counts['skipped']} skipped  {detail[:60]}"
                ),
            )

        yield update


def _check_writable(path: str, what: str) -> None:
    """Fail now, before any work, when `path` cannot be written (XPostCheckError, exit 2)."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(path))
    folder = target.parent

    def cannot(why: str) -> XPostCheckError:
        return XPostCheckError(f"cannot write the {what} here: {why}", where=path)

    if not folder.exists():
        raise cannot(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise cannot(f"{folder} is not a folder")
    if target.is_dir():
        raise cannot("it is a folder")
    if target.exists() and not os.access(target, os.W_OK):
        raise cannot("the file is read-only")
    try:  # the same kind of file the write itself will make, to be sure
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot(exc.strerror or str(exc)) from None
    os.close(fd)
    os.unlink(probe)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(path: str, data: str | bytes) -> None:
    """Write a temporary file in the target's folder, then rename it over the target: readers
    see the old file or the new one, never part of one, and a failure leaves no trace.
    Keeps an existing file's permissions. Raises OSError (and encoding errors) as they come."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(path))  # write through the link, not over it
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if isinstance(data, bytes):
            with open(fd, "wb") as binary:
                binary.write(data)
                binary.flush()
                os.fsync(binary.fileno())
        else:
            with open(fd, "w", encoding="utf-8") as text:
                text.write(data)
                text.flush()
                os.fsync(text.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _emit(text: str, output: str | None) -> None:
    """Print the report, or write it to `output` whole (checked by `_check_writable` before the
    scan; a failure now is exit 3, since the scan ran)."""
    if output:
        try:
            _write_atomic(output, text)
        except OSError as exc:
            raise ScanFailed(
                f"cannot write the report: {exc.strerror or exc}", where=output
            ) from None
    else:
        click.echo(text, nl=not text.endswith("\n"))


# Options that take one value each time they are given: a bare argument right after their value
# is almost always a second value given the wrong way, and would otherwise become a SITE.
_REPEATABLE = {"--url": "--url", "--sources": "--sources", "-s": "--sources"}


def _refuse_stray_values(ctx: click.Context, args: list[str]) -> None:
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return
        opt, value, after = "", "", i + 1
        name, eq, rest = token.partition("=")
        if token in _REPEATABLE and i + 1 < len(args):
            opt, value, after = token, args[i + 1], i + 2
        elif eq and name in _REPEATABLE and name.startswith("--"):
            opt, value = name, rest
        elif token.startswith("-s") and not token.startswith("--") and len(token) > 2:
            opt, value = "-s", token[2:]
        if opt and after < len(args) and not args[after].startswith("-"):
            stray = args[after]
            message = (
                f"unexpected argument {stray!r} after {opt} {value}: each {_REPEATABLE[opt]} "
                f"takes one value; repeat the option ({opt} {value} {opt} {stray})"
            )
            if stray.lower().startswith(("http://", "https://")):
                message += f", or write --site {stray} to crawl that site"
            raise click.UsageError(message, ctx=ctx)
        i = after if opt else i + 1


class _ScanCommand(click.Command):
    """`scan`, refusing `--url A B` (B would be crawled as a site) and `--sources a b`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_stray_values(ctx, args)
        return super().parse_args(ctx, args)


@main.command(cls=_ScanCommand)
@click.argument("site", nargs=-1)
@click.option(
    "--sources",
    "-s",
    multiple=True,
    help="JSON Lines, feed, sitemap, URL list or folder (repeat for more).",
)
@click.option(
    "--rules", "-r", help="A pack in rules/ (see 'xpostcheck rules list') or a TOML file."
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    help=(
        "A site to crawl (same as a SITE argument; repeat for more): a site is its whole host; "
        "the path is where the crawl starts."
    ),
)
@click.option("--sites-file", type=click.Path(dir_okay=False), help="One site URL per line.")
@click.option(
    "--url", "urls", multiple=True, help="Fetch this page only, without crawling (repeat for more)."
)
@click.option(
    "--db",
    help=(
        "The scan database: a SQLite file (default ./xpostcheck.db); only SQLite file paths are "
        "supported for now."
    ),
)
@click.option("--index", help="Source index file (default: beside the database).")
@click.option(
    "--rebuild-index",
    is_flag=True,
    default=None,
    help="Build the source index anew from these sources, dropping articles no longer given "
    "(the saved index otherwise only grows).",
)
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json", "csv", "html"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option(
    "--fail-on", type=click.Choice(["any", "new"]), help="Exit 1 on any or new violations."
)
@click.option("--delay", type=float, help="Seconds between two requests to one host (default 1).")
@click.option("--threads", type=int, help="Fetching threads (default 16).")
@click.option("--workers", type=int, help="Extraction processes (default: automatic).")
@click.option("--max-pages", type=int, help="Pages per site (default 500).")
@click.option("--max-depth", type=int, help="Link depth from the site's start page (default 10).")
@click.option("--timeout", type=float, help="Seconds one page may take to fetch (default 30).")
@click.option(
    "--recheck-after",
    metavar="DURATION",
    help=(
        "Seconds, or a number with s, m, h or d (default 12h): pages of crawled sites fetched "
        "less than this long ago, and still fresh by their own HTTP caching headers, are not "
        "requested again and their findings carry over; 0 asks again for every page. Pages "
        "given with --url are always fetched."
    ),
)
@click.option("--contact", help="Contact URL or e-mail put in the User-Agent.")
@click.option(
    "--min-coverage", type=float, help="Share of a source that makes a copy, 0 to 1 (0.15)."
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config TOML.")
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress, no summary line, no warnings; errors only."
)
def scan(site: tuple[str, ...], config_path: str | None, quiet: bool, **flags: Any) -> None:
    """Crawl SITE... (and --url pages), find copies of the sources, check them against the
    rules, and report. A site is its whole host; the path of SITE is where the crawl starts.

    \b
    Exit codes: 0 no violations, 1 violations found, 2 usage/config/rule error,
    3 the scan failed (for example no site reachable).
    """
    from xpostcheck.config import build_settings, read_config

    if quiet:
        _configure_logging(0, quiet=True)
    flags["sites"] = tuple(site) + tuple(flags.get("sites") or ())
    flags["format"] = flags.pop("fmt")
    settings = build_settings(read_config(config_path), flags)
    if settings.output:
        _check_writable(settings.output, "report")
    code = _run_scan(settings, quiet=quiet)
    sys.exit(code)


def _run_scan(settings: Any, *, quiet: bool) -> int:
    from xpostcheck.pipeline.scan import run_scan
    from xpostcheck.report.formats import FORMATS, summary_line

    with _progress(not quiet) as progress:
        result = run_scan(settings, progress=progress)
    text = FORMATS[settings.format].render(result.report, result.context)
    _emit(text, settings.output)
    if not quiet and (settings.format != "table" or settings.output):
        where = f" (report in {settings.output})" if settings.output else ""
        click.echo(summary_line(result.report) + where, err=True)
    code: int = result.report.exit_code(settings.fail_on)
    return code


# --- demo --------------------------------------------------------------------------------


@main.command()
@click.option(
    "--output",
    "-o",
    default="xpostcheck-demo-report.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the JSON report.",
)
@click.option("--keep-serving", is_flag=True, help="Leave the demo web running until Ctrl-C.")
def demo(output: str, keep_serving: bool) -> None:
    """Serve a bundled demo web on loopback, scan it end to end, print the table and write
    the JSON report. Exits 0 when the demo ran."""
    from xpostcheck.demo.web import demo_web
    from xpostcheck.pipeline.scan import run_scan
    from xpostcheck.report.formats import FORMATS

    _check_writable(output, "report")
    with demo_web() as web:
        click.echo(f"Demo web serving {len(web.sites)} republisher sites on loopback:", err=True)
        for url in web.sites:
            click.echo(f"  {url}", err=True)
        with _progress(True) as progress:
            result = run_scan(web.settings(), progress=progress)
        click.echo(FORMATS["table"].render(result.report, result.context))
        json_text = FORMATS["json"].render(result.report, result.context)
        _emit(json_text, output)
        click.echo(f"JSON report written to {Path(output).resolve()}", err=True)
        if keep_serving:
            click.echo("Serving until Ctrl-C.", err=True)
            web.wait()
    sys.exit(EXIT_OK)


# --- explain -------------------------------------------------------------------------------


@main.command()
@click.argument("url")
@click.option("--rules", "-r", required=True, help="A pack name or a rule file.")
@click.option("--sources", "-s", multiple=True, required=True, help="The publisher's articles.")
@click.option("--min-coverage", type=float, help="Share of a source that makes a copy (0.15).")
def explain(url: str, rules: str, sources: tuple[str, ...], min_coverage: float | None) -> None:
    """Fetch URL and show every check with its evidence."""
    import tempfile

    from xpostcheck.config import build_settings
    from xpostcheck.pipeline.scan import run_scan

    with tempfile.TemporaryDirectory(prefix="xpostcheck-explain-") as tmp:
        flags = {
            "sources": sources,
            "rules": rules,
            "urls": (url,),
            "db": f"{tmp}/explain.db",
            "min_coverage": min_coverage,
            "workers": 1,
        }
        result = run_scan(build_settings({}, flags))
    report = result.report
    for skip in report.skipped:
        click.echo(f"skipped {skip.url}: {skip.reason}")
    if not report.copies:
        click.echo(f"{url}: no copy of any of the {report.scan.sources} source articles found.")
        sys.exit(EXIT_OK)
    for copy in report.copies:
        click.echo(f"{copy.url}")
        click.echo(f"  copy of   {copy.source_url}  ({copy.source_title})")
        click.echo(f"  coverage  {copy.coverage:.0%} ({copy.kind}), {len(copy.passages)} passages")
        click.echo(f"  verdict   {copy.verdict}")
        for check in copy.checks:
            mark = "PASS" if check.passed else "FAIL"
            click.echo(f"  {mark} {check.severity:<7} {check.rule} [{check.kind}]: {check.message}")
            if check.evidence:
                click.echo(f"       evidence: {check.evidence}")
    sys.exit(report.exit_code())


# --- rules ---------------------------------------------------------------------------------


@main.group("rules")
def rules_group() -> None:
    """List, show and validate rule packs."""


@rules_group.command("list")
def rules_list() -> None:
    """List the rule packs shipped in rules/."""
    from xpostcheck.rules.loader import list_packs

    for pack in list_packs():
        click.echo(
            f"{pack.name:<22} {pack.publisher:<28} {len(pack.rules):>2} rules  {pack.policy_url}"
        )


@rules_group.command("show")
@click.argument("pack")
def rules_show(pack: str) -> None:
    """Show the rules of PACK (a pack name or a file)."""
    from xpostcheck.rules.loader import describe_ruleset, load_ruleset

    click.echo(describe_ruleset(load_ruleset(pack)))


@rules_group.command("validate")
@click.argument("path", type=click.Path())
def rules_validate(path: str) -> None:
    """Validate a rule file or every .toml in a folder. Exit 2 when any is invalid."""
    from xpostcheck.rules.loader import validate

    errors = validate(path)
    for error in errors:
        click.echo(f"xpostcheck: error: {error}", err=True)
    if errors:
        sys.exit(EXIT_USAGE)
    click.echo(f"{path}: valid")


# --- review: history, evidence, triage, notice -----------------------------------------------

_db_option = click.option(
    "--db", default="xpostcheck.db", show_default=True, help="The scan database (a SQLite file)."
)


def _open_existing(db: str) -> Any:
    from xpostcheck.store.sqlite import open_store

    if "://" not in db and not Path(db).exists():
        raise XPostCheckError(
            "no scan database here; run 'xpostcheck scan' first or pass --db", where=db
        )
    return open_store(db)


@main.command()
@_db_option
@click.option("--limit", default=20, show_default=True, help="How many scans to list.")
def history(db: str, limit: int) -> None:
    """List past scans and their counts, newest first."""
    from xpostcheck.review.actions import format_history

    store = _open_existing(db)
    try:
        click.echo(format_history(store.history(limit)))
    finally:
        store.close()


@main.command()
@click.argument("url")
@_db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the WARC here (default: <host>.warc.gz in this folder).",
)
def evidence(url: str, db: str, output: str | None) -> None:
    """Export the WARC evidence recorded for URL: the exact response as it was seen."""
    from xpostcheck.util.urls import host_of

    target = output or f"{host_of(url) or 'evidence'}.warc.gz"
    store = _open_existing(db)
    try:
        _check_writable(target, "evidence")
        data = store.evidence(url)
    finally:
        store.close()
    if data is None:
        raise XPostCheckError(
            "no evidence recorded for this URL (only pages holding copies are archived)", where=url
        )
    try:
        _write_atomic(target, data)
    except OSError as exc:
        raise XPostCheckError(
            f"cannot write the evidence: {exc.strerror or exc}", where=target
        ) from None
    click.echo(f"wrote {len(data)} bytes of WARC evidence to {target}")


@main.command()
@click.argument("url")
@click.option(
    "--as",
    "status",
    required=True,
    type=click.Choice(["false-positive", "licensed", "notified", "ignored"]),
)
@click.option("--note", default="", help="Why; kept with the triage mark.")
@click.option("--source", "source_url", help="Only the copy of this source article.")
@click.option("--rule", help="Only this rule id.")
@_db_option
def triage(
    url: str, status: str, note: str, source_url: str | None, rule: str | None, db: str
) -> None:
    """Mark the findings on URL as triaged; later scans keep them visible but not counted."""
    store = _open_existing(db)
    try:
        rows = store.triage(url, status, note=note, source_url=source_url, rule=rule)
    finally:
        store.close()
    if rows == 0:
        raise XPostCheckError(
            "no recorded findings for this URL; check the URL against 'xpostcheck scan' output",
            where=url,
        )
    click.echo(f"marked {rows} finding(s) on {url} as {status}")


@main.command()
@click.argument("url")
@_db_option
@click.option(
    "--rules",
    "-r",
    help="The pack or rule file the copy was checked against (default: the scan's own pack).",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False),
    help="Your own notice template (jinja2).",
)
@click.option("--index", help="Source index file (default: beside the database).")
def notice(url: str, db: str, rules: str | None, template: str | None, index: str | None) -> None:
    """Draft a polite, specific compliance request for the copy at URL."""
    from xpostcheck.review.actions import notice_for

    store = _open_existing(db)
    try:
        click.echo(
            notice_for(store, url, rules, index_path=index or f"{db}.index", template_path=template)
        )
    finally:
        store.close()


if __name__ == "__main__":  # pragma: no cover
    main()
