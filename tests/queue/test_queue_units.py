"""The queue's pieces that need no server: units and their host locks, what goes into the
queue's tables as JSON, cron expressions, and the commands' errors before any connection."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.config import Settings
from xpostcheck.errors import ConfigError
from xpostcheck.models import Copy, Finding, Passage, SkipCode, Skipped
from xpostcheck.pipeline.site import SiteResult, SiteUnit
from xpostcheck.queue import codec
from xpostcheck.queue.scans import queue_units
from xpostcheck.queue.schedule import check_cron


def test_every_unit_fetches_from_one_host_and_holds_its_lock() -> None:
    units = queue_units(
        ("https://a.example/", "https://www.a.example/blog", "http://b.example:8080/"),
        (
            "https://a.example/one",
            "https://c.example/x",
            "https://d.example/y",
            "https://c.example/z",
        ),
    )
    assert units == [
        (
            SiteUnit(
                ("https://a.example/", "https://www.a.example/blog"), ("https://a.example/one",)
            ),
            "a.example",
        ),
        (SiteUnit(("http://b.example:8080/",), ()), "b.example:8080"),
        (SiteUnit((), ("https://c.example/x", "https://c.example/z")), "c.example"),
        (SiteUnit((), ("https://d.example/y",)), "d.example"),
    ]


def test_a_site_result_reads_back_field_for_field() -> None:
    finding = Finding("r1", "attribution", False, "error", "no credit", "none found")
    judged = Copy(
        "https://a.example/c",
        "a.example",
        "https://pub.example/s",
        0.91,
        "full",
        "violation",
        (Passage(0, 10, 5, 15),),
        (finding,),
        "T",
        "S",
        "2026-11-30",
    )
    carried = dataclasses.replace(judged, url="https://a.example/d", verdict="compliant", checks=())
    result = SiteResult(
        unit=SiteUnit(("https://a.example/",), ("https://a.example/x",)),
        copies=(judged, carried),
        carried=(carried,),
        skipped=(Skipped("https://a.example/gone", "HTTP 404", SkipCode.GONE),),
        texts={"https://a.example/c": "text ü"},
        fetched=7,
        unchanged=2,
    )
    assert codec.result_from_json(codec.result_to_json(result)) == result


def test_settings_read_back_with_paths_made_absolute(tmp_path: object) -> None:
    settings = Settings(
        sources=("a.jsonl",),
        rules="globalresearch",
        sites=("https://a.example/",),
        db="scans.db",
        delay=0.5,
        rule_overrides={"r": {"severity": "warning"}},
        allow_private=("10.0.0.1",),
    )
    back = codec.settings_from_json(codec.settings_to_json(settings))
    assert back == dataclasses.replace(settings, db=str(tmp_path) + "/scans.db")


@pytest.mark.parametrize("cron", ["bad", "* * * *", "61 * * * *", "0 3 * * * *"])
def test_a_bad_cron_expression_is_refused_with_the_form_expected(cron: str) -> None:
    with pytest.raises(ConfigError, match="five fields: minute hour"):
        check_cron(cron)


def test_a_good_cron_expression_is_normalised() -> None:
    assert check_cron(" 0  3 * *  1-5 ") == "0 3 * * 1-5"


def test_scan_queue_needs_a_postgresql_database() -> None:
    result = CliRunner().invoke(
        main, ["scan", "--queue", "-s", "a.jsonl", "-r", "globalresearch", "https://a.example/"]
    )
    assert result.exit_code == 2
    assert "--queue needs a PostgreSQL database: --db postgresql://" in result.output


def test_worker_without_a_server_says_so_in_one_line() -> None:
    import socket

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = CliRunner().invoke(
            main, ["worker", "--db", f"postgresql://u:secret@127.0.0.1:{port}/x"]
        )
    assert result.exit_code == 2
    assert "cannot connect to the queue's PostgreSQL server" in result.output
    assert f"postgresql://u:***@127.0.0.1:{port}/x" in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_worker_refuses_a_sqlite_queue() -> None:
    result = CliRunner().invoke(main, ["worker", "--db", "scans.db"])
    assert result.exit_code == 2
    assert "the queue needs a PostgreSQL database" in result.output
