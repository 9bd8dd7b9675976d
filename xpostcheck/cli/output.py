"""What the command line hands back besides its commands' own lines: exit codes, the log level
on stderr, a live progress line, the report on stdout or in a file, and signals (SIGTERM and
Ctrl-C unwind the command as an exception, so that its worker processes and temporary files
go with it).

In: the commands' results (report text, verbosity). Out: stdout, stderr and files; ScanFailed
when a report that the scan produced cannot be written.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import click

from xpostcheck.errors import ScanFailed
from xpostcheck.util.files import STDOUT, write_output

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "EXIT_VIOLATIONS",
    "configure_logging",
    "emit",
    "no_color_flag",
    "PageLines",
    "progress",
    "stop_on_signals",
    "Terminated",
]

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: the command unwinds as it does on Ctrl-C (a scan
    stops its units, its worker processes and removes its temporary folder)."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Terminated` and SIGINT `KeyboardInterrupt` in the
    main thread. The next signal during the unwinding is ignored, so that the clean-up is not
    cut short; one more after that ends the process the default way. Outside the main thread
    (signal handlers cannot be set there) the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handler(signum: int, _frame: object) -> None:
        nonlocal received
        received += 1
        if received == 1:
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        if received > 2:  # asked three times: stop now, whatever is left behind
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# Libraries that log about single pages (a page they cannot parse, a date they cannot read);
# the report already lists what became of every page.
_LIBRARY_LOGGERS = ("trafilatura", "htmldate", "courlan", "charset_normalizer")


def configure_logging(verbose: int, *, quiet: bool = False) -> None:
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


def no_color_flag(no_color: bool) -> None:
    """`--no-color`: set NO_COLOR (https://no-color.org) for this process, which the table, the
    progress bar (rich) and any worker process honour alike."""
    if no_color:
        os.environ["NO_COLOR"] = "1"


class _Tally:
    """Pages known (queued), done (fetched or skipped) and with copies, per site, as the
    scan's progress events tell them."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.copies: dict[str, int] = {}

    def add(self, event: str, url: str) -> str:
        """Count one event; the site (host and port) it belongs to."""
        site = _site_of(url)
        if event == "queued":
            self.known[site] = self.known.get(site, 0) + 1
        elif event in ("fetched", "skipped"):
            self.done[site] = self.done.get(site, 0) + 1
            # A URL skipped before it was queued (a cap, a trap) is known as it is done.
            self.known[site] = max(self.known.get(site, 0), self.done[site])
        elif event == "copy":
            self.copies[site] = self.copies.get(site, 0) + 1
        return site


def _site_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url


class PageLines:
    """The -v line of each page and its outcome: 'fetched URL: copy found', 'fetched URL: no
    copy', 'skipped URL: reason' (a page's "copy" event comes before its "fetched")."""

    def __init__(self) -> None:
        self.copies: set[str] = set()

    def line(self, event: str, detail: str) -> str | None:
        if event == "skipped":
            url, _, reason = detail.partition(" ")
            return f"skipped {url}: {reason or 'no reason given'}"
        if event == "copy":
            self.copies.add(detail)
        elif event == "fetched":
            found = detail in self.copies
            self.copies.discard(detail)
            return f"fetched {detail}: {'copy found' if found else 'no copy'}"
        return None


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str, str], None] | None]:
    """On a terminal (stderr), a live progress bar per site: pages done of pages known, with
    the copies found and an estimate of the time left. With -v, one line per page and its
    outcome (above the bars on a terminal, as log lines elsewhere). Nothing else on a
    non-terminal."""
    verbose = logging.getLogger("xpostcheck").isEnabledFor(logging.INFO)
    log = logging.getLogger("xpostcheck.pages")
    if not enabled or not sys.stderr.isatty():
        if not (enabled and verbose):
            yield None
            return

        lines = PageLines()

        def log_page(event: str, detail: str) -> None:
            line = lines.line(event, detail)
            if line:
                log.info(line)

        yield log_page
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    tally = _Tally()
    lines = PageLines()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        status = bar.add_task("indexing the sources", total=None, note="")

        def update(event: str, detail: str) -> None:
            if event == "sources":
                bar.update(status, description=f"{detail} source articles indexed", total=1)
                bar.update(status, completed=1, visible=False)
                return
            url = detail.partition(" ")[0]
            site = tally.add(event, url)
            if site not in tasks:
                tasks[site] = bar.add_task(site, total=None, note="")
            copies = tally.copies.get(site, 0)
            bar.update(
                tasks[site],
                total=tally.known.get(site, 0) or None,
                completed=tally.done.get(site, 0),
                note=f"{copies} with copies" if copies else "",
            )
            line = lines.line(event, detail) if verbose else None
            if line:
                bar.console.print(line, markup=False, highlight=False)

        yield update


def emit(text: str, output: str | None) -> None:
    """Print the report (no output, or `-`), or write it to `output`: a regular file whole,
    a device, FIFO or /dev/stdout in place (checked by `check_writable` before the scan; a
    failure now is exit 3, since the scan ran)."""
    if output and output != STDOUT:
        try:
            write_output(output, text)
        except OSError as exc:
            raise ScanFailed(
                f"cannot write the report: {exc.strerror or exc}", where=output
            ) from None
    else:
        click.echo(text, nl=not text.endswith("\n"))
