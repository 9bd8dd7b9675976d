"""Settings: config file under flags, and clear errors naming the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.config import (
    Settings,
    build_settings,
    format_duration,
    parse_duration,
    read_config,
    read_sites_file,
)
from xpostcheck.errors import ConfigError


def test_flags_win_over_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "xpostcheck.toml"
    cfg.write_text(
        '[scan]\nsources = "arts.jsonl"\nrules = "globalresearch"\n'
        'sites = ["https://a.example/"]\ndelay = 2.5\nfail_on = "new"\n'
        '[overrides."gr-non-commercial"]\nenabled = false\n'
    )
    settings = build_settings(read_config(cfg), {"delay": 0.5, "sites": (), "format": None})
    assert settings.sources == (str(tmp_path / "arts.jsonl"),)
    assert settings.sites == ("https://a.example/",)
    assert settings.delay == 0.5
    assert settings.fail_on == "new"
    assert settings.rule_overrides == {"gr-non-commercial": {"enabled": False}}
    assert settings.db == "xpostcheck.db"


def test_config_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[scan]\nrules = "x"\nsites = [\n')
    with pytest.raises(ConfigError) as err:
        read_config(cfg)
    assert str(err.value).startswith(f"{cfg}:")
    assert "not valid TOML" in str(err.value)


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("[scan]\nthreds = 4\n")
    with pytest.raises(ConfigError, match="unknown setting 'threds'"):
        read_config(cfg)


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        read_config(tmp_path / "nope.toml")


def test_sites_file_errors_name_the_line(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("# partners\nhttps://a.example/\n\nb.example\n")
    with pytest.raises(ConfigError) as err:
        read_sites_file(str(sites))
    assert str(err.value) == (
        f"{sites}:4: 'b.example': not an http(s) URL (write it as https://b.example/)"
    )


def test_sites_file_is_read(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("# partners\nhttps://a.example/  # ours\nhttps://b.example/\n")
    assert read_sites_file(str(sites)) == ["https://a.example/", "https://b.example/"]


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    names = []
    for name, command in main.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    missing = [n for n in names if f"xpostcheck {n}" not in readme and f"`{n} " not in readme]
    assert missing == []
    assert "xpostcheck scan" in readme and "xpostcheck demo" in readme


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, name


# --- config file shapes and encodings ---------------------------------------------------------


def test_a_flat_config_file_may_name_a_rules_file(tmp_path: Path) -> None:
    cfg = tmp_path / "flat.toml"
    cfg.write_text(
        'rules = "rules/x.toml"\nsources = ["a.jsonl"]\nsites = ["https://a.example/"]\n'
    )
    config = read_config(cfg)
    # Paths in a config file are relative to the file, the rule file's like the others.
    assert config == {
        "rules": str(tmp_path / "rules" / "x.toml"),
        "sources": [str(tmp_path / "a.jsonl")],
        "sites": ["https://a.example/"],
    }


def test_a_flat_config_file_may_carry_rule_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "flat.toml"
    cfg.write_text('sources = "a.jsonl"\n[rules.overrides."gr-link"]\nseverity = "warning"\n')
    assert read_config(cfg)["rule_overrides"] == {"gr-link": {"severity": "warning"}}


def test_a_rules_pack_name_in_a_config_file_stays_a_name(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('[scan]\nrules = "globalresearch"\n')
    assert read_config(cfg)["rules"] == "globalresearch"


def test_files_written_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_bytes("\ufeffhttps://a.example/\r\nhttps://b.example/\r\n".encode())
    assert read_sites_file(str(sites)) == ["https://a.example/", "https://b.example/"]
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes('\ufeff[scan]\nrules = "globalresearch"\n'.encode())
    assert read_config(cfg) == {"rules": "globalresearch"}


# --- validation: flags name the flag, config files name the file and the key -----------------

_BASE = ["scan", "--sources", "a.jsonl", "--rules", "globalresearch"]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "http://"], "--site 'http://': no host name in this URL"),
        (["https://"], "--site 'https://': no host name in this URL"),
        (["--site", "ftp://x.example/"], "--site 'ftp://x.example/': not an http(s) URL"),
        (
            ["--site", "x.example"],
            "--site 'x.example': not an http(s) URL (write it as https://x.example/)",
        ),
        (["--site", "http://x.example:99999/"], "--site 'http://x.example:99999/': bad port"),
        (["--url", "mailto:a@x.example"], "--url 'mailto:a@x.example': not an http(s) URL"),
        (["--site", "https://a.example/", "--max-depth", "-1"], "--max-depth must be >= 0, not -1"),
        (["--site", "https://a.example/", "--max-pages", "0"], "--max-pages must be >= 1, not 0"),
        (["--site", "https://a.example/", "--max-pages", "-5"], "--max-pages must be >= 1, not -5"),
        (["--site", "https://a.example/", "--threads", "0"], "--threads must be >= 1, not 0"),
        (["--site", "https://a.example/", "--workers", "-1"], "--workers must be >= 0, not -1"),
        (["--site", "https://a.example/", "--delay", "-1"], "--delay must be >= 0, not -1.0"),
        (["--site", "https://a.example/", "--delay", "nan"], "--delay must be a finite number"),
        (["--site", "https://a.example/", "--timeout", "0"], "--timeout must be > 0, not 0.0"),
        (
            ["--site", "https://a.example/", "--min-coverage", "1.5"],
            "--min-coverage must be between 0 and 1, not 1.5",
        ),
        (
            ["--site", "https://a.example/", "--min-coverage", "-0.1"],
            "--min-coverage must be between 0 and 1, not -0.1",
        ),
        (
            ["--site", "https://a.example/", "--recheck-after", "-1"],
            "--recheck-after must be >= 0, not -1",
        ),
        (
            ["--site", "https://a.example/", "--recheck-after", "12x"],
            "--recheck-after: not a duration: '12x' (give seconds, or a number with "
            "s, m, h or d, such as 12h)",
        ),
    ],
)
def test_bad_flag_values_are_usage_errors_naming_the_value(
    args: list[str], message: str, tmp_path: Path
) -> None:
    db = tmp_path / "x.db"
    result = _cli(*_BASE, "--db", str(db), *args)
    assert result.exit_code == 2
    assert result.stderr == f"xpostcheck: error: {message}\n"
    assert not db.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("max_depth = -1", "setting 'max_depth' must be >= 0, not -1"),
        ("max_pages = 0", "setting 'max_pages' must be >= 1, not 0"),
        ("threads = 0", "setting 'threads' must be >= 1, not 0"),
        ("delay = -0.5", "setting 'delay' must be >= 0, not -0.5"),
        ("timeout = 0", "setting 'timeout' must be > 0, not 0"),
        ("min-coverage = 2", "setting 'min-coverage' must be between 0 and 1, not 2"),
        ("recheck_after = -3", "setting 'recheck_after' must be >= 0, not -3"),
        (
            'recheck_after = "soon"',
            "setting 'recheck_after': not a duration: 'soon' (give "
            "seconds, or a number with s, m, h or d, such as 12h)",
        ),
        ('sites = ["ftp://x.example/"]', "setting 'sites' 'ftp://x.example/': not an http(s) URL"),
        ('urls = ["http://"]', "setting 'urls' 'http://': no host name in this URL"),
        ('format = "xml"', "setting 'format' must be one of table, json, csv, html, not 'xml'"),
        ('fail_on = "some"', "setting 'fail_on' must be one of any, new, never, not 'some'"),
    ],
)
def test_bad_config_values_name_the_file_and_the_key(
    line: str, message: str, tmp_path: Path
) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(f"[scan]\n{line}\n")
    with pytest.raises(ConfigError) as err:
        read_config(cfg)
    assert str(err.value) == f"{cfg}: {message}"


def test_site_urls_are_normalised_and_more_than_half_coverage_is_legal(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("HTTPS://B.Example:8443/Blog/\n")
    settings = build_settings(
        {},
        {
            "sources": ("a.jsonl",),
            "rules": "globalresearch",
            "sites": ("HTTP://Example.COM/News/",),
            "sites_file": str(sites),
            "urls": ("Https://C.example/Page?Q=1",),
            "min_coverage": 0.8,
        },
    )
    assert settings.sites == ("http://example.com/News/", "https://b.example:8443/Blog/")
    assert settings.urls == ("https://c.example/Page?Q=1",)
    assert settings.min_coverage == 0.8


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("http://", "'http://': no host name in this URL"),
        ("HTTP://[::1/", "'HTTP://[::1/': not a valid URL (Invalid IPv6 URL)"),
        (
            "example.org/blog/",
            "'example.org/blog/': not an http(s) URL (write it as https://example.org/blog/)",
        ),
        (
            "https://a.example/ https://b.example/",
            "'https://a.example/ https://b.example/': contains white space; give one URL each",
        ),
    ],
)
def test_sites_file_lines_are_validated_like_flags(line: str, problem: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text(f"https://a.example/\n{line}\n")
    with pytest.raises(ConfigError) as err:
        read_sites_file(str(sites))
    assert str(err.value) == f"{sites}:2: {problem}"


# --- recheck_after -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("90", 90.0),
        ("1.5", 1.5),
        ("45s", 45.0),
        ("30m", 1800.0),
        ("12h", 43200.0),
        ("2d", 172800.0),
        (" 1.5H ", 5400.0),
    ],
)
def test_recheck_after_takes_seconds_or_suffixed_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    flags = {"sources": ("a",), "rules": "r", "sites": ("https://a.example/",)}
    assert build_settings({}, {**flags, "recheck_after": text}).recheck_after == seconds


def test_recheck_after_defaults_to_twelve_hours_and_comes_from_the_config(tmp_path: Path) -> None:
    flags = {"sources": ("a",), "rules": "r", "sites": ("https://a.example/",)}
    assert Settings().recheck_after == 43200.0
    assert build_settings({}, flags).recheck_after == 43200.0
    cfg = tmp_path / "x.toml"
    cfg.write_text('[scan]\nrecheck_after = "30m"\n')
    assert build_settings(read_config(cfg), flags).recheck_after == 1800.0
    cfg.write_text("[scan]\nrecheck-after = 600\n")
    assert build_settings(read_config(cfg), flags).recheck_after == 600.0
    # The flag wins over the file.
    assert build_settings(read_config(cfg), {**flags, "recheck_after": "0"}).recheck_after == 0.0


def test_settings_carry_the_source_index_beside_a_database_file(tmp_path: Path) -> None:
    flags = {"sources": ("a",), "rules": "r", "sites": ("https://a.example/",)}
    assert build_settings({}, flags).index == "xpostcheck.db.index"
    assert build_settings({}, {**flags, "db": "x/scans.db"}).index == "x/scans.db.index"
    assert build_settings({}, {**flags, "index": "s.index"}).index == "s.index"
    assert build_settings({}, {**flags, "db": "postgresql://h/db"}).index is None
    cfg = tmp_path / "x.toml"
    cfg.write_text('[scan]\ndb = "scans.db"\n')
    assert build_settings(read_config(cfg), flags).index == f"{tmp_path / 'scans.db'}.index"


@pytest.mark.parametrize(
    ("seconds", "text"), [(43200.0, "12h"), (86400.0, "1d"), (90.0, "90s"), (1.5, "1.5s")]
)
def test_a_duration_is_written_as_parse_duration_reads_it(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


# --- help and README ---------------------------------------------------------------------------


def _scan_help() -> str:
    result = CliRunner().invoke(main, ["scan", "--help"], terminal_width=200)
    assert result.exit_code == 0
    return " ".join(result.stdout.split())


def test_help_says_what_db_and_site_accept() -> None:
    text = _scan_help()
    assert "a SQLite file" in text and "postgresql://USER@HOST/DB URL shared by several" in text
    assert "a site is its whole host; the path is where the crawl starts" in text
    assert (
        "pages of crawled sites fetched less than this long ago, and still fresh by their own "
        "HTTP caching headers, are not requested again and their findings carry over; 0 asks "
        "again for every page. Pages given with --url are always fetched." in text
    )


def test_every_scan_flag_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    scan = main.commands["scan"]
    flags = [o for p in scan.params for o in p.opts if o.startswith("--") and o != "--help"]
    assert [f for f in flags if f"`{f}" not in readme] == []
    for key in ("recheck_after", "timeout", "max_depth"):
        assert key in readme


def test_a_bad_override_names_the_config_file_line_and_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xpostcheck.cli.main import main

    cfg = tmp_path / "xpostcheck.toml"
    cfg.write_text(
        '[scan]\nrules = "globalresearch"\n\n# softer link rule\n'
        '[overrides."gr-link"]\nallow_home_page = "x"\n',
        encoding="utf-8",
    )
    sources = tmp_path / "s.jsonl"
    sources.write_text('{"url": "https://a.example/1", "title": "t", "text": "x y z"}\n')
    result = CliRunner().invoke(
        main,
        ["scan", "--config", str(cfg), "--url", "http://127.0.0.1:9/", "-s", str(sources)],
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"xpostcheck: error: {cfg}:5: override for 'gr-link': ")
    assert "option 'allow_home_page'" in result.output
    assert len(result.output.splitlines()) == 1
