"""Settings: config file under flags, and clear errors naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from xpostcheck.cli import main
from xpostcheck.config import build_settings, read_config, read_sites_file
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
        f"{sites}:4: not an http(s) URL: 'b.example' (write one site URL per line)"
    )


def test_sites_file_is_read(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("# partners\nhttps://a.example/  # ours\nhttps://b.example/\n")
    assert read_sites_file(str(sites)) == ["https://a.example/", "https://b.example/"]


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
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
