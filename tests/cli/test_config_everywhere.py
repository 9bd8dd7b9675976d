"""One configuration for every command (issue 13): every command reads xpostcheck.toml (or
--config) and XPOSTCHECK_* variables, `quiet = true` is accepted, `--help` says where
settings come from, and `xpostcheck config` prints the settings in effect with their origin.

Real SQLite files made by a real scan of a loopback site.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from loopback import Server
from test_cron import ARTICLES, Site, _config

from xpostcheck import config as config_module
from xpostcheck.cli.main import main
from xpostcheck.config import KEYS, build_settings, read_config, read_env
from xpostcheck.errors import ConfigError


@pytest.fixture()
def scanned(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder with an xpostcheck.toml (db = cron.db) and a scan already recorded in it."""
    with Server({"/robots.txt": (404, {"Content-Type": "text/plain"}, b"")}) as server:
        site = Site(server)
        _config(tmp_path, site)
        site.publish("a")
        result = CliRunner().invoke(main, ["scan"])
        assert result.exit_code == 1, result.output
        yield tmp_path, f"{server.base}/a"


def test_history_report_triage_evidence_and_notice_read_the_config_db(
    scanned: tuple[Path, str], tmp_path: Path
) -> None:
    folder, copy_url = scanned
    assert (folder / "cron.db").exists() and not (folder / "xpostcheck.db").exists()
    runner = CliRunner()
    history = runner.invoke(main, ["history"])
    assert history.exit_code == 0, history.output
    rows = [line.split() for line in history.stdout.splitlines()[1:]]
    assert [(r[0], r[3], r[6]) for r in rows] == [("1", "globalresearch", "1")]
    evidence = runner.invoke(main, ["evidence", copy_url, "-o", "a.warc.gz"])
    assert evidence.exit_code == 0, evidence.output
    assert (folder / "a.warc.gz").stat().st_size > 0
    notice = runner.invoke(main, ["notice", copy_url])
    assert notice.exit_code == 0, notice.output
    assert ARTICLES["a"][0] in notice.stdout
    again = runner.invoke(main, ["report", "--scan", "1", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert [c["url"] for c in json.loads(again.stdout)["copies"]] == [copy_url]
    triage = runner.invoke(main, ["triage", copy_url, "--as", "licensed", "--rule", "gr-link"])
    assert triage.exit_code == 0, triage.output
    assert not (folder / "xpostcheck.db").exists()


def test_a_config_elsewhere_is_read_with_config(
    scanned: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, _url = scanned
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    without = CliRunner().invoke(main, ["history"])
    assert without.exit_code == 2
    assert "no scan database here" in without.stderr
    with_config = CliRunner().invoke(main, ["history", "--config", str(folder / "xpostcheck.toml")])
    assert with_config.exit_code == 0, with_config.output
    # The environment names the database too; a flag wins over it.
    env = CliRunner().invoke(main, ["history"], env={"XPOSTCHECK_DB": str(folder / "cron.db")})
    assert env.exit_code == 0, env.output
    flag = CliRunner().invoke(
        main, ["history", "--db", "nope.db"], env={"XPOSTCHECK_DB": str(folder / "cron.db")}
    )
    assert flag.exit_code == 2 and "nope.db: no scan database here" in flag.stderr


def test_explain_takes_sources_and_rules_from_the_config(tmp_path: Path) -> None:
    with Server({"/robots.txt": (404, {"Content-Type": "text/plain"}, b"")}) as server:
        site = Site(server)
        _config(tmp_path, site)
        site.publish("a")
        result = CliRunner().invoke(main, ["explain", f"{server.base}/a"])
    assert result.exit_code == 1, result.output
    assert f"copy of   {ARTICLES['a'][0]}" in result.stdout
    assert "FAIL error   gr-link" in result.stdout
    # The configured site was not crawled: only the page asked about.
    assert server.paths().count("/") == 0


def test_explain_without_sources_anywhere_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["explain", "http://127.0.0.1:9/x", "--rules", "globalresearch"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "xpostcheck: error: no sources: give --sources FILE|URL (or 'sources' in xpostcheck.toml)\n"
    )


def test_config_prints_each_setting_with_its_origin(tmp_path: Path) -> None:
    (tmp_path / "xpostcheck.toml").write_text(
        '[scan]\ndb = "nightly.db"\nquiet = true\n\n[notify]\nsmtp_host = "mail.example"\n'
        'email_to = ["ed@example.org"]\nsmtp_password = "hunter2"\n'
    )
    result = CliRunner().invoke(main, ["config"], env={"XPOSTCHECK_SMTP_PORT": "2525"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    cfg = tmp_path / "xpostcheck.toml"
    assert lines[0] == f"# config file: {cfg} (read)"
    assert f'db = "nightly.db"  # config file {cfg}:2' in lines
    assert f"quiet = true  # config file {cfg}:3" in lines
    assert f'smtp_host = "mail.example"  # config file {cfg}:6' in lines
    assert "smtp_port = 2525  # environment XPOSTCHECK_SMTP_PORT" in lines
    assert 'fail_on = "any"  # default' in lines
    assert f'smtp_password = "(set)"  # config file {cfg}:8' in lines
    assert "hunter2" not in result.output


def test_scan_show_config_names_flags(tmp_path: Path) -> None:
    (tmp_path / "xpostcheck.toml").write_text('fail_on = "new"\nthreads = 4\n')
    result = CliRunner().invoke(main, ["scan", "--show-config", "--threads", "2"])
    assert result.exit_code == 0, result.output
    cfg = tmp_path / "xpostcheck.toml"
    assert f'fail_on = "new"  # config file {cfg}:1' in result.stdout.splitlines()
    assert "threads = 2  # flag --threads" in result.stdout.splitlines()


def test_quiet_and_no_wait_are_accepted_in_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("quiet = true\nno_wait = true\n")
    settings = build_settings(read_config(cfg), {}, scan=False)
    assert (settings.quiet, settings.no_wait) == (True, True)
    cfg.write_text('quiet = "yes"\n')
    with pytest.raises(ConfigError, match="setting 'quiet' has the wrong type"):
        read_config(cfg)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"XPOSTCHECK_THREADS": "many"}, "environment variable XPOSTCHECK_THREADS: not a valid"),
        ({"XPOSTCHECK_QUIET": "perhaps"}, "environment variable XPOSTCHECK_QUIET: give 1 or 0"),
        (
            {"XPOSTCHECK_SMTP_SECURITY": "ssl"},
            "environment variable XPOSTCHECK_SMTP_SECURITY must be one of starttls, tls, none",
        ),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        read_env(env)
    assert str(err.value).startswith(message)


def test_a_bad_environment_value_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["history"], env={"XPOSTCHECK_FAIL_ON": "sometimes"})
    assert result.exit_code == 2
    assert result.stderr.startswith("xpostcheck: error: environment variable XPOSTCHECK_FAIL_ON")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "command",
    [
        "scan",
        "history",
        "report",
        "triage mark",
        "triage list",
        "triage remove",
        "notice",
        "explain",
        "evidence",
        "config",
    ],
)
def test_every_help_says_where_settings_come_from(command: str) -> None:
    # (`triage URL --as ...` runs `triage mark`; the group's own help lists its commands)
    result = CliRunner().invoke(main, [*command.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--config" in result.stdout
    assert "XPOSTCHECK_<SETTING> environment variables" in result.stdout


def test_email_without_a_server_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "xpostcheck.toml").write_text('[notify]\nemail_to = ["ed@example.org"]\n')
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 2
    assert "email_to is set but smtp_host is not" in result.stderr


def test_config_json_values_round_trip(tmp_path: Path) -> None:
    """What `xpostcheck config` prints is TOML a config file can start from."""
    result = CliRunner().invoke(main, ["config"])
    body = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))
    data = config_module.tomllib.loads(body)
    assert data["db"] == "xpostcheck.db" and data["threads"] == 16
    assert json.dumps(data["sites"]) == "[]"


def test_every_scan_flag_has_a_setting() -> None:
    """Every flag of `scan` (but --config and --show-config) fits in the config file."""
    scan = main.commands["scan"]
    names = {
        "format" if p.name == "fmt" else str(p.name)
        for p in scan.params
        if isinstance(p, click.Option) and p.name not in ("config_path", "show_config")
    }
    assert len(names) > 20
    assert sorted(names - set(KEYS)) == []
