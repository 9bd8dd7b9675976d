"""The review commands on a real scan database (history, triage, evidence, notice), and how
the command line fails: one line, the right exit code, no half-written files."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopback import Route, Server

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web


@pytest.fixture()
def web() -> Iterator[DemoWeb]:
    with demo_web() as running:
        yield running


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scan(web: DemoWeb, db: Path) -> Any:
    return _run(
        "scan",
        *web.sites,
        "--sources",
        str(ARTICLES),
        "--rules",
        str(RULES),
        "--db",
        str(db),
        "--delay",
        "0",
        "--workers",
        "1",
        "-f",
        "json",
        "--quiet",
    )


def _copy_url(report: dict[str, Any], path: str) -> str:
    return next(c["url"] for c in report["copies"] if c["url"].endswith(path))


def test_history_triage_evidence_and_notice(web: DemoWeb, tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    first = _scan(web, db)
    assert first.exit_code == 1
    report = json.loads(first.stdout)
    library = _copy_url(report, "/posts/library-sundays.html")

    # notice: specific, names what is missing and where to write.
    notice = _run("notice", library, "--db", str(db), "--rules", str(RULES))
    assert notice.exit_code == 0, notice.output
    assert "Lakeside library adds Sunday hours" in notice.stdout
    assert "https://lakesideledger.example/2026/10/library-hours" in notice.stdout
    assert "editors@riverbend.example" in notice.stdout
    # Another publisher's pack would cite the wrong policy: refused, naming the scan's.
    wrong = _run("notice", library, "--db", str(db), "--rules", "propublica")
    assert wrong.exit_code == 2
    assert "was checked against 'lakeside-ledger-demo', not 'propublica'" in wrong.output

    # evidence: the exact response as a WARC record.
    out = tmp_path / "library.warc.gz"
    evidence = _run("evidence", library, "--db", str(db), "--output", str(out))
    assert evidence.exit_code == 0, evidence.output
    warc = gzip.decompress(out.read_bytes())
    assert b"WARC-Type: response" in warc
    assert f"WARC-Target-URI: {library}".encode() in warc
    assert b"Lakeside library adds Sunday hours" in warc
    # A folder that is not there: one line, exit 2, nothing written.
    nowhere = tmp_path / "missing" / "library.warc.gz"
    failed = _run("evidence", library, "--db", str(db), "-o", str(nowhere))
    assert failed.exit_code == 2
    assert failed.output == (
        f"xpostcheck: error: {nowhere}: cannot write the evidence here: "
        f"the folder {nowhere.parent} does not exist\n"
    )
    assert not nowhere.parent.exists()

    # triage: the copy stays in the report, marked, and no longer counts.
    marked = _run(
        "triage",
        library,
        "--as",
        "licensed",
        "--whole-page",
        "--note",
        "signed deal",
        "--db",
        str(db),
    )
    assert marked.exit_code == 0, marked.output
    # Every failed check of the copy is marked (and listed); passed ones never are.
    assert marked.stdout.startswith(f"marked 1 failed check(s) on {library} as licensed:\n")
    second = json.loads(_scan(web, db).stdout)
    copy = next(c for c in second["copies"] if c["url"] == library)
    assert copy["verdict"] == "compliant"
    assert [k.get("triage") for k in copy["checks"] if not k["passed"]] == ["licensed"]
    assert len([c for c in second["copies"] if c["verdict"] == "violation"]) == 2
    # Nothing left to ask for, and the notice says why.
    triaged = _run("notice", library, "--db", str(db), "--rules", str(RULES))
    assert triaged.exit_code == 2
    assert "every violation recorded for this URL is triaged" in triaged.output

    # history: both scans, newest first, with their counts.
    history = _run("history", "--db", str(db))
    assert history.exit_code == 0
    lines = history.stdout.splitlines()
    assert lines[0].split()[:3] == ["scan", "started", "finished"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]


def test_review_commands_need_an_existing_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (
        ["history"],
        ["evidence", "http://127.0.0.1/x"],
        ["triage", "http://127.0.0.1/x", "--as", "ignored"],
    ):
        result = _run(*args, "--db", str(missing))
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"xpostcheck: error: {missing}: no scan database here; run 'xpostcheck scan' "
            "first or pass --db"
        )
        assert not missing.exists()


def test_triage_of_unknown_url_is_an_error(web: DemoWeb, tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    _scan(web, db)
    result = _run("triage", "http://127.0.0.9/nothing", "--as", "ignored", "--db", str(db))
    assert result.exit_code == 2
    assert "no recorded findings for this URL" in result.output


# --- how the command line fails -----------------------------------------------------------------

_UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing listens, the refusal is at once


def _scan_args(db: Path | str, *more: str) -> list[str]:
    return ["scan", "--sources", str(ARTICLES), "--rules", str(RULES), "--db", str(db), *more]


def test_an_unwritable_report_path_is_refused_before_scanning(tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    missing = tmp_path / "missing" / "report.json"
    result = _run(*_scan_args(db, _UNREACHABLE, "-f", "json", "-o", str(missing)))
    assert result.exit_code == 2
    assert result.stderr == (
        f"xpostcheck: error: {missing}: cannot write the report here: "
        f"the folder {missing.parent} does not exist\n"
    )
    assert not db.exists()  # nothing was scanned
    afile = tmp_path / "afile.txt"
    afile.write_text("x")
    under_file = afile / "report.json"
    result = _run(*_scan_args(db, _UNREACHABLE, "-o", str(under_file)))
    assert result.exit_code == 2
    assert result.stderr == (
        f"xpostcheck: error: {under_file}: cannot write the report here: {afile} is not a folder\n"
    )
    # The same check for an output path given in the config file.
    cfg = tmp_path / "xpostcheck.toml"
    cfg.write_text('[scan]\noutput = "out/report.html"\n')
    result = _run(*_scan_args(db, _UNREACHABLE, "--config", str(cfg)))
    assert result.exit_code == 2
    assert f"{tmp_path / 'out' / 'report.html'}: cannot write the report here" in result.stderr
    assert not db.exists()


def test_demo_refuses_an_unwritable_report_path_before_serving(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "demo.json"
    result = _run("demo", "-o", str(missing))
    assert result.exit_code == 2
    assert result.output == (
        f"xpostcheck: error: {missing}: cannot write the report here: "
        f"the folder {missing.parent} does not exist\n"
    )


def test_a_report_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    from xpostcheck.cli.output import emit as _emit

    report = tmp_path / "report.json"
    report.write_text("old report\n")
    report.chmod(0o640)
    # Encoding fails after part of the text went out: the old report must survive intact.
    with pytest.raises(UnicodeEncodeError):
        _emit("x" * 200_000 + "\udc80", str(report))
    assert report.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left
    _emit('{"new": true}\n', str(report))
    assert report.read_text() == '{"new": true}\n'
    assert report.stat().st_mode & 0o777 == 0o640  # the old file's permissions are kept
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_stray_argument_after_a_repeatable_option_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    a, b = f"{_UNREACHABLE}a", f"{_UNREACHABLE}b"
    for given in (["--url", a, b], [f"--url={a}", b]):
        result = _run(*_scan_args(db, *given))
        assert result.exit_code == 2
        assert (
            f"Error: unexpected argument '{b}' after --url {a}: each --url takes one value; "
            f"repeat the option (--url {a} --url {b}), or write --site {b} to crawl that site"
        ) in " ".join(result.stderr.split())
    result = _run("scan", "-s", "a.jsonl", "b.jsonl", "--rules", str(RULES), _UNREACHABLE)
    assert result.exit_code == 2
    assert (
        "Error: unexpected argument 'b.jsonl' after -s a.jsonl: each --sources takes one value; "
        "repeat the option (-s a.jsonl -s b.jsonl)"
    ) in " ".join(result.stderr.split())
    assert not db.exists()
    # Repeated, both pages are fetched (and both refused: nothing listens there).
    result = _run(*_scan_args(db, "--url", a, "--url", b, "--delay", "0"))
    assert result.exit_code == 3
    assert f"{a}: " in result.stderr and f"{b}: " in result.stderr


def test_a_flat_config_naming_a_rule_file_is_not_a_crash(tmp_path: Path) -> None:
    cfg = tmp_path / "flat.toml"
    cfg.write_text(
        f'rules = "rules/x.toml"\nsources = ["{ARTICLES}"]\nsites = ["{_UNREACHABLE}"]\n'
    )
    result = _run("scan", "--config", str(cfg), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"xpostcheck: error: {tmp_path / 'rules' / 'x.toml'}")


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("boom\nsecond line")


def test_an_unexpected_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xpostcheck.rules.loader.list_packs", _boom)
    result = CliRunner().invoke(main, ["rules", "list"], env={"XPOSTCHECK_DEBUG": ""})
    assert result.exit_code == 3
    assert result.stderr == (
        "xpostcheck: internal error: RuntimeError: boom second line "
        "(please report; --debug shows the traceback)\n"
    )
    for args, env in (
        (["--debug", "rules", "list"], {}),
        (["rules", "list"], {"XPOSTCHECK_DEBUG": "1"}),
    ):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 3
        assert result.stderr.startswith("Traceback (most recent call last):\n")
        assert 'raise RuntimeError("boom\\nsecond line")' in result.stderr
        assert result.stderr.endswith(
            "xpostcheck: internal error: RuntimeError: boom second line "
            "(please report; --debug shows the traceback)\n"
        )


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("xpostcheck.rules.loader.list_packs", interrupted)
    result = CliRunner().invoke(main, ["rules", "list"])
    assert result.exit_code == 130
    assert result.stderr == "xpostcheck: interrupted\n"


def test_an_unreachable_postgresql_db_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://scanner:secret@127.0.0.1:9/x"  # nothing listens on the discard port
    result = _run(*_scan_args(url, _UNREACHABLE))
    assert result.exit_code == 2
    assert result.stderr.startswith("xpostcheck: error: postgresql://scanner:***@127.0.0.1:9/x: ")
    assert "cannot connect to the database" in result.stderr and "secret" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.fixture()
def junk_page() -> Iterator[str]:
    """A page trafilatura logs an ERROR about (an XML document served as HTML)."""
    routes: dict[str, Route] = {
        "/robots.txt": (404, {"Content-Type": "text/html"}, b""),
        "/junk.html": (200, {"Content-Type": "text/html"}, b'<?xml version="1.0"?><x/>'),
    }
    with Server(routes) as server:
        yield f"{server.base}/junk.html"


def test_quiet_silences_library_logs(
    junk_page: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = ("trafilatura", "htmldate", "courlan", "charset_normalizer")

    def library_records() -> list[str]:
        return [r.name for r in caplog.records if r.name.split(".")[0] in library]

    loud = _run(*_scan_args(tmp_path / "a.db", "--url", junk_page, "-f", "json"))
    assert loud.exit_code == 0, loud.output
    assert "trafilatura.utils" in library_records()  # the page does make trafilatura complain
    assert logging.getLogger("xpostcheck").isEnabledFor(logging.WARNING)
    caplog.clear()
    quiet = _run(*_scan_args(tmp_path / "b.db", "--url", junk_page, "-f", "json", "-q"))
    assert quiet.exit_code == 0, quiet.output
    assert library_records() == []
    assert quiet.stderr == ""
    assert not logging.getLogger("xpostcheck").isEnabledFor(logging.WARNING)
    assert logging.getLogger("xpostcheck").isEnabledFor(logging.ERROR)
    # -vv is our debug output, not the libraries' chatter.
    _run("-vv", "rules", "list")
    assert logging.getLogger("xpostcheck").isEnabledFor(logging.DEBUG)
    for name in library:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    _run("rules", "list")  # leave the default levels to the tests that follow
