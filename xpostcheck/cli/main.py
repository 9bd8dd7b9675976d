"""The command line's entry point: the `xpostcheck` group, its logging, and the one place
that turns errors into a line on stderr and an exit code. The only package that imports click,
prints or exits is `xpostcheck.cli`; each command lives in the module of its concern (scan,
review, rules).

Exit codes: 0 scanned, no violations; 1 violations found; 2 usage, config or rule-file error
(nothing was scanned); 3 the scan itself failed; 4 scanned, but a notification failed;
130 Ctrl-C; 143 SIGTERM.
"""

from __future__ import annotations

import errno
import traceback
from typing import Any

import click

from xpostcheck import __version__
from xpostcheck.cli.config_cmd import add_config_option, config_command
from xpostcheck.cli.demo import demo
from xpostcheck.cli.discover import discover
from xpostcheck.cli.examples import add_examples
from xpostcheck.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    configure_logging,
    no_color_flag,
    stop_on_signals,
)
from xpostcheck.cli.report_cmd import report
from xpostcheck.cli.review import evidence, explain, history, notice, triage
from xpostcheck.cli.rules import rules_group
from xpostcheck.cli.scan import scan
from xpostcheck.cli.schedule import schedule_group
from xpostcheck.cli.worker import worker
from xpostcheck.errors import XPostCheckError

__all__ = ["main"]


class _Group(click.Group):
    """Turns every XPostCheckError into one line on stderr and its exit code, and any other
    exception into one line and exit 3 (the traceback only with --debug). SIGTERM and Ctrl-C
    unwind the command (its clean-up runs) and end in one line, exit 143 or 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with stop_on_signals():
                return super().invoke(ctx)
        except XPostCheckError as exc:
            click.echo(f"xpostcheck: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Terminated:
            click.echo(
                "xpostcheck: stopped by SIGTERM; nothing was reported "
                "(the scan shows as interrupted in 'xpostcheck history')",
                err=True,
            )
            ctx.exit(EXIT_TERMINATED)
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


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True}
)
@click.version_option(__version__, prog_name="xpostcheck")
@click.option(
    "-v", "--verbose", count=True, show_default=False, help="Log more on stderr (-vv for debug)."
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="XPOSTCHECK_DEBUG",
    help="Show the traceback of an internal error (or set XPOSTCHECK_DEBUG=1).",
)
@click.option("--no-color", is_flag=True, help="No colours (as NO_COLOR=1 does).")
def main(verbose: int, debug: bool, no_color: bool) -> None:
    """Find republished copies of a publisher's articles and check them against its
    cross-post rules.

    Every command reads the same settings: the defaults, then ./xpostcheck.toml (or
    --config FILE), then XPOSTCHECK_<SETTING> environment variables, then its flags.
    'xpostcheck config' prints the settings in effect and where each came from.

    \b
    Exit codes: 0 no violations, 1 violations found, 2 usage/config/rule error,
    3 the scan failed, 4 scanned but a notification failed.
    """
    configure_logging(verbose)
    no_color_flag(no_color)


for _command in (
    scan,
    demo,
    explain,
    rules_group,
    history,
    report,
    evidence,
    triage,
    notice,
    config_command,
    discover,
    worker,
    schedule_group,
):
    add_config_option(_command)
    main.add_command(_command)
add_examples(main)  # after every command is added: each --help ends with examples


if __name__ == "__main__":  # pragma: no cover
    main()
