"""`xpostcheck rules`: list the shipped packs, show one, validate rule files.

In: a pack name, a file or a folder. Out: lines on stdout; exit 2 when a file is invalid. The
rule loader is imported inside each command, so that the command line starts fast.
"""

from __future__ import annotations

import sys

import click

from xpostcheck.cli.output import EXIT_USAGE

__all__ = ["rules_group"]


@click.group("rules")
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
