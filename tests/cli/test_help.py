"""CLI conventions: every command's --help ends with examples that parse, defaults are shown,
--format json for `history` and `rules list`, shell completion works as documented."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from loopback import Server

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.rules.loader import pack_names

RUN = "from xpostcheck.cli.main import main; main(prog_name='xpostcheck')"
ROOT = Path(__file__).resolve().parents[2]


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in sorted(group.commands.items()):
        if isinstance(sub, click.Group):
            found += _commands(sub, (*path, name))
        else:
            found.append((*path, name))
    return found


COMMANDS = _commands(main)


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"", "scan", "demo", "explain", "history", "rules", "rules list"} <= names
    assert len(names) >= 12


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "xpostcheck")
def test_every_help_has_examples_that_parse(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    # The examples: the lines after "Examples:" (in the epilog or in the docstring).
    _, found, after = result.output.partition("Examples:\n")
    assert found, f"'xpostcheck {' '.join(path)} --help' has no examples"
    lines = []
    for line in after.splitlines():
        if not line.strip().startswith("xpostcheck"):
            break
        lines.append(line.strip())
    assert lines
    parsed = []
    for line in lines:
        words = shlex.split(line.split("  #")[0].split(" | ")[0])
        assert words[0] == "xpostcheck"
        args = words[1:]
        parsed.append(args)
        # Each example parses: its command exists and its options are real.
        command: click.Command = main
        ctx = main.make_context("xpostcheck", [], resilient_parsing=True)
        rest = args
        while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
            sub = command.get_command(ctx, rest[0])
            if sub is None and command.name == "triage":  # `triage URL ...` is `triage mark`
                sub, rest = command.get_command(ctx, "mark"), ["mark", *rest]
            assert sub is not None, line
            command, rest = sub, rest[1:]
        with contextlib.suppress(click.exceptions.Exit):  # an example showing --help
            command.make_context(command.name or "", list(rest), parent=ctx)
    # At least one example shows the command itself.
    assert any(args[: len(path)] == list(path) for args in parsed), lines


def test_defaults_are_shown_in_help() -> None:
    history = CliRunner().invoke(main, ["history", "--help"]).output
    assert "[default: 20]" in history
    assert "[default: table]" in history
    demo = CliRunner().invoke(main, ["demo", "--help"]).output
    assert "[default:xpostcheck-demo-report.json]" in "".join(demo.split())
    # A counter flag has no default worth showing.
    top = CliRunner().invoke(main, ["--help"]).output
    assert "Log more on stderr (-vv for debug).\n" in top
    assert "[default: 0]" not in top


def test_rules_list_as_json_names_every_shipped_pack() -> None:
    result = CliRunner().invoke(main, ["rules", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    packs = json.loads(result.output)
    assert [p["name"] for p in packs] == list(pack_names())
    gr = next(p for p in packs if p["name"] == "globalresearch")
    assert gr["rules"] == ["gr-attribution", "gr-copyright", "gr-link", "gr-non-commercial"]
    assert set(gr) == {"name", "publisher", "rules", "policy_url", "description"}


def test_history_as_json(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    page = (200, {"Content-Type": "text/html"}, b"<html><body><p>nothing here</p></body></html>")
    with Server({"/robots.txt": (404, {}, b""), "/a.html": page}) as server:
        scan = CliRunner().invoke(
            main,
            ["scan", "-s", str(ARTICLES), "-r", str(RULES), "--db", str(db)]
            + ["--url", f"{server.base}/a.html", "-q"],
        )
    assert scan.exit_code == 0, scan.output
    result = CliRunner().invoke(main, ["history", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 1
    row = rows[0]
    assert (row["scan"], row["pages"], row["copies"], row["violations"]) == (1, 1, 0, 0)
    assert row["rules"] and row["finished"]
    # One site over time, as JSON too (no copy was found there: no scan to list).
    trend = CliRunner().invoke(
        main, ["history", "--db", str(db), "--site", "127.0.0.1", "--format", "json"]
    )
    assert trend.exit_code == 0, trend.output
    assert json.loads(trend.output) == []


def test_shell_completion_works_as_the_readme_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_XPOSTCHECK_COMPLETE=bash_source xpostcheck)"' in readme
    env = {**os.environ, "_XPOSTCHECK_COMPLETE": "bash_source"}
    script = subprocess.run(
        [
            sys.executable,
            "-c",
            "from xpostcheck.cli.main import main; main(prog_name='xpostcheck')",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "complete -o nosort -F _xpostcheck_completion xpostcheck" in script
    # The completion itself: the commands after "xpostcheck ".
    env = {
        **os.environ,
        "_XPOSTCHECK_COMPLETE": "bash_complete",
        "COMP_WORDS": "xpostcheck hi",
        "COMP_CWORD": "1",
    }
    words = subprocess.run(
        [
            sys.executable,
            "-c",
            "from xpostcheck.cli.main import main; main(prog_name='xpostcheck')",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "plain,history" in words.split()
