"""`xpostcheck rules`: list the shipped packs, show one, validate rule files, run their examples.

In: a pack name, a file or a folder. Out: lines on stdout; exit 2 when a file is invalid. The
rule loader is imported inside each command, so that the command line starts fast.
"""

from __future__ import annotations

import json
import sys

import click

from xpostcheck.cli.output import EXIT_USAGE

__all__ = ["rules_group"]


@click.group("rules")
def rules_group() -> None:
    """List, show, validate and test rule packs."""


@rules_group.command("list")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="One line per pack, or a JSON array of one object per pack.",
)
def rules_list(fmt: str) -> None:
    """List the rule packs shipped in rules/."""
    from xpostcheck.rules.loader import list_packs

    packs = list_packs()
    if fmt == "json":
        rows = [
            {
                "name": pack.name,
                "publisher": pack.publisher,
                "rules": [rule.id for rule in pack.rules],
                "policy_url": pack.policy_url,
                "description": pack.description,
            }
            for pack in packs
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for pack in packs:
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


@rules_group.command("test")
@click.argument("spec", metavar="PACK|FILE|DIR")
@click.option("-v", "--verbose", is_flag=True, help="Also list the examples that pass.")
def rules_test(spec: str, verbose: bool) -> None:
    """Run the [[example]] pages inside rule packs and compare each verdict with the one the
    example expects. Exit 0 when all agree, 1 naming each example that disagrees (with a diff),
    2 when a file is invalid."""
    from xpostcheck.rules.examples import run_examples

    packs = run_examples(spec)
    disagree = empty = 0
    for pack in packs:
        bad = [r for r in pack.results if not r.ok]
        disagree += len(bad)
        if not pack.results:
            empty += 1
            click.echo(f"{pack.path}: FAIL no [[example]] tables; add compliant and violating ones")
            continue
        click.echo(
            f"{pack.path}: {len(pack.results) - len(bad)}/{len(pack.results)} examples agree"
        )
        for result in pack.results:
            where = f"{pack.path}:{result.example.line}"
            if result.ok:
                if verbose:
                    click.echo(f"  ok    {where} {result.example.name!r} ({result.verdict})")
                continue
            click.echo(f"  FAIL  {where} example {result.example.name!r}")
            for line in result.diff():
                click.echo(f"        {line}")
    total = sum(len(p.results) for p in packs)
    summary = (
        f"{total - disagree} of {total} examples agree"
        if disagree
        else f"all {total} examples agree"
    )
    if empty:
        summary += f"; {empty} file(s) without examples"
    click.echo(summary)
    if disagree or empty:
        sys.exit(1)
