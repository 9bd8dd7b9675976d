"""Bounds on --threads and --timeout (and their config keys), and TOML nested too deeply: usage
errors in one line (exit 2), never an internal error, a runaway or a lost deadline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.config import read_config
from xpostcheck.errors import ConfigError, RuleError
from xpostcheck.rules.loader import load_ruleset

_BASE = ["scan", "--sources", "a.jsonl", "--rules", "globalresearch", "https://a.example/"]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threads", "257"], "--threads must be <= 256, not 257"),
        (["--threads", "100000"], "--threads must be <= 256, not 100000"),
        (["--threads", "100000000"], "--threads must be <= 256, not 100000000"),
        (["--timeout", "1e10"], "--timeout must be <= 3600, not 10000000000.0"),
        (["--timeout", "3600.5"], "--timeout must be <= 3600, not 3600.5"),
        (["--timeout", "inf"], "--timeout must be a finite number"),
    ],
)
def test_threads_and_timeout_out_of_bounds_are_usage_errors(
    args: list[str], message: str, tmp_path: Path
) -> None:
    db = tmp_path / "x.db"
    result = _cli(*_BASE, "--db", str(db), *args)
    assert (result.exit_code, result.stderr) == (2, f"xpostcheck: error: {message}\n")
    assert not db.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("threads = 100000", "setting 'threads' must be <= 256, not 100000"),
        ("timeout = 1e10", "setting 'timeout' must be <= 3600, not 10000000000.0"),
    ],
)
def test_threads_and_timeout_bounds_in_the_config_file(
    line: str, message: str, tmp_path: Path
) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(f"[scan]\n{line}\n")
    with pytest.raises(ConfigError) as err:
        read_config(cfg)
    assert str(err.value) == f"{cfg}: {message}"


def test_the_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("[scan]\nthreads = 256\ntimeout = 3600\n")
    assert read_config(cfg) == {"threads": 256, "timeout": 3600}


_DEEP = "a = " + "[" * 100_000 + "\n"


def test_a_config_file_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "deep.toml"
    cfg.write_text("[scan]\ndelay = 1\n" + _DEEP)
    with pytest.raises(ConfigError) as err:
        read_config(cfg)
    assert str(err.value) == (
        f"{cfg}:3: not valid TOML: nested too deeply to read "
        "(arrays or tables inside each other thousands deep)"
    )


def test_a_rule_pack_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    pack = tmp_path / "deep.toml"
    pack.write_text('name = "deep"\npublisher = "P"\n' + "x = " + "{y = " * 100_000 + "\n")
    with pytest.raises(RuleError) as err:
        load_ruleset(str(pack))
    assert str(err.value) == (
        f"{pack}:3: not valid TOML: nested too deeply to read "
        "(arrays or tables inside each other thousands deep)"
    )
