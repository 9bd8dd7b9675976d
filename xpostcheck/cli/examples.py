"""The examples every command's `--help` ends with, in one place, so that a test can walk every
command and find them (a command may also carry its own `epilog`, which is kept).

In: the click group. Out: each command's epilog set to its examples.
"""

from __future__ import annotations

import click

__all__ = ["EXAMPLES", "add_examples"]

# Command path (without "xpostcheck") -> example command lines, each "command  # what it does".
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "xpostcheck demo                      # try it on a bundled demo web",
        "xpostcheck scan -s feed.xml -r globalresearch https://blog.example/",
        "xpostcheck scan --help               # every option of a scan",
    ),
    "scan": (
        "xpostcheck scan -s https://publisher.example/feed.xml -r globalresearch "
        "https://blog.example/",
        "xpostcheck scan -s articles.jsonl -r rules.toml --sites-file sites.txt "
        "-f html -o report.html",
        "xpostcheck scan -s sitemap.xml -r propublica --url https://blog.example/a-copy.html",
        "xpostcheck scan -q --fail-on new -s feed.xml -r globalresearch https://blog.example/",
    ),
    "worker": (
        "xpostcheck worker --db postgresql://xpostcheck@db.example/xpostcheck",
        "xpostcheck worker --db scans.db --queue-db postgresql://localhost/xpostcheck --once",
    ),
    "schedule": (
        "xpostcheck schedule add nightly '0 3 * * *' --config scan.toml --db postgresql://db/x",
        "xpostcheck schedule list --db postgresql://db/x",
    ),
    "schedule add": (
        "xpostcheck schedule add nightly '0 3 * * *' --config scan.toml --db postgresql://db/x",
    ),
    "schedule list": ("xpostcheck schedule list --db postgresql://db/x",),
    "schedule remove": ("xpostcheck schedule remove nightly --db postgresql://db/x",),
    "demo": (
        "xpostcheck demo",
        "xpostcheck demo -o /tmp/demo.json     # the HTML report and database go beside it",
    ),
    "explain": (
        "xpostcheck explain https://blog.example/a-copy.html -r globalresearch -s feed.xml",
    ),
    "history": (
        "xpostcheck history",
        "xpostcheck history --db scans/xpostcheck.db --limit 5",
        "xpostcheck history --site blog.example  # one site over time",
        "xpostcheck history --format json | jq '.[0]'",
    ),
    "evidence": (
        "xpostcheck evidence https://blog.example/a-copy.html",
        "xpostcheck evidence https://blog.example/a-copy.html -o copy.warc.gz",
    ),
    "triage": (
        "xpostcheck triage https://blog.example/a-copy.html --as false-positive --rule gr-link",
        "xpostcheck triage https://blog.example/a-copy.html --as licensed --whole-page "
        "--note 'contract 2024-17'",
        "xpostcheck triage list",
        "xpostcheck triage remove https://blog.example/a-copy.html --rule gr-link",
    ),
    "triage mark": (
        "xpostcheck triage mark https://blog.example/a-copy.html --as false-positive "
        "--rule gr-link",
        "xpostcheck triage mark https://blog.example/a-copy.html --as licensed --whole-page "
        "--note 'contract 2024-17'",
    ),
    "triage list": (
        "xpostcheck triage list",
        "xpostcheck triage list https://blog.example/a-copy.html",
    ),
    "triage remove": (
        "xpostcheck triage remove https://blog.example/a-copy.html --rule gr-link",
        "xpostcheck triage remove https://blog.example/a-copy.html --all",
    ),
    "notice": (
        "xpostcheck notice https://blog.example/a-copy.html",
        "xpostcheck notice https://blog.example/a-copy.html -o notice.txt",
    ),
    "rules": (
        "xpostcheck rules list",
        "xpostcheck rules show globalresearch",
    ),
    "rules list": (
        "xpostcheck rules list",
        "xpostcheck rules list --format json",
    ),
    "rules show": (
        "xpostcheck rules show globalresearch",
        "xpostcheck rules show ./my-rules.toml",
    ),
    "rules validate": (
        "xpostcheck rules validate ./my-rules.toml",
        "xpostcheck rules validate ./rules/",
    ),
    "rules test": (
        "xpostcheck rules test globalresearch",
        "xpostcheck rules test ./rules/ -v",
    ),
}


def add_examples(command: click.Command, path: str = "") -> None:
    """Give `command` and every subcommand their examples as the epilog of their `--help`
    (an epilog a command already has is kept)."""
    lines = EXAMPLES.get(path)
    if lines and not command.epilog:
        # \b keeps click from re-wrapping the lines into one paragraph.
        command.epilog = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            add_examples(sub, f"{path} {name}".strip())
