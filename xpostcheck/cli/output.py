"""What the command line hands back besides its commands' own lines: exit codes, the log level
on stderr, a live progress line, and the report on stdout or in a file.

In: the commands' results (report text, verbosity). Out: stdout, stderr and files; ScanFailed
when a report that the scan produced cannot be written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from xpostcheck.errors import ScanFailed
from xpostcheck.util.files import write_atomic

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VIOLATIONS",
    "configure_logging",
    "emit",
    "progress",
]

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130

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


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str, str], None] | None]:
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


def emit(text: str, output: str | None) -> None:
    """Print the report, or write it to `output` whole (checked by `check_writable` before the
    scan; a failure now is exit 3, since the scan ran)."""
    if output:
        try:
            write_atomic(output, text)
        except OSError as exc:
            raise ScanFailed(
                f"cannot write the report: {exc.strerror or exc}", where=output
            ) from None
    else:
        click.echo(text, nl=not text.endswith("\n"))
