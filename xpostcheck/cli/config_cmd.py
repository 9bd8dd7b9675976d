"""One configuration for every command: the `--config` option every command takes, the
helper the commands call to read their settings, and `xpostcheck config`, which prints the
settings in effect and where each came from (default, config file PATH:LINE, environment,
flag).

In: `--config` (or ./xpostcheck.toml), XPOSTCHECK_* environment variables and a command's
flags. Out: Settings; `xpostcheck config` prints them as TOML with their origins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from xpostcheck import options
from xpostcheck.config import KEYS, SECRET, Settings, default_index, settings_for_command
from xpostcheck.errors import ConfigError

__all__ = [
    "add_config_option",
    "command_settings",
    "config_command",
    "explain_settings",
    "show_config",
]

_META = "xpostcheck.config_path"
CONFIG_HELP = (
    f"Config TOML (default ./{options.CONFIG_FILE} when it exists). Settings come from the "
    "defaults, then this file, then XPOSTCHECK_<SETTING> environment variables, then flags."
)


def _remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.meta[_META] = value
    return value


def add_config_option(command: click.Command) -> None:
    """Give `command` a `--config FILE` option (when it has none), kept for
    `command_settings`."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_config_option(sub)
        return
    if any(p.name == "config_path" for p in command.params):
        return
    command.params.append(
        click.Option(
            ["--config", "config_path"],
            type=click.Path(dir_okay=False),
            expose_value=False,
            is_eager=True,
            callback=_remember,
            help=CONFIG_HELP,
        )
    )


def _config_path() -> str | None:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_META) if ctx is not None else None


def command_settings(**flags: Any) -> Settings:
    """The settings of the running command: its config file, the environment, then the
    flags given (None means not given). Sources, rules and sites are not required."""
    settings, _where = settings_for_command(_config_path(), flags, os.environ)
    return settings


def show_settings(settings: Settings, where: Mapping[str, str]) -> str:
    """The settings as TOML lines (a config file could start from them), each with its origin
    in a comment; secrets are not shown."""
    lines = []
    for key in KEYS:
        if not hasattr(settings, key):
            continue  # sites_file: its sites are in `sites`
        value = getattr(settings, key)
        if key in SECRET and value:
            shown = '"(set)"'
        elif value is None:
            shown = '""'
        elif isinstance(value, tuple):
            shown = json.dumps(list(value))
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        else:
            shown = json.dumps(value)
        lines.append(f"{key} = {shown}  # {where.get(key, 'default')}")
    return "\n".join(lines)


def explain_settings(**flags: Any) -> Settings:
    """The settings of `explain`: the config's sources, rules and fetching settings, but only
    the page given (no configured site) and the command's own scratch database and index."""
    settings = replace(command_settings(**flags), sites=())
    settings = replace(settings, index=default_index(settings.db))
    if not settings.sources:
        raise ConfigError("no sources: give --sources FILE|URL (or 'sources' in xpostcheck.toml)")
    if not settings.rules:
        raise ConfigError("no rules: give --rules PACK|FILE (or 'rules' in xpostcheck.toml)")
    return settings


def show_config(config_path: str | None, flags: dict[str, Any], *, scan: bool) -> str:
    """The settings in effect, as TOML with each one's origin, under a line naming the file."""
    settings, where = settings_for_command(config_path, flags, os.environ, scan=scan)
    path = Path(config_path or options.CONFIG_FILE)
    state = "read" if path.exists() else "not found, defaults used"
    return f"# config file: {path.resolve()} ({state})\n" + show_settings(settings, where)


@click.command("config")
def config_command() -> None:
    """Print the settings in effect and where each comes from: default, config file
    (PATH:LINE), environment (XPOSTCHECK_<SETTING>) or flag. Every command reads the same
    settings; the output is TOML that a config file can start from.

    \b
    Examples:
      xpostcheck config
      xpostcheck config --config /etc/xpostcheck.toml
      xpostcheck scan --show-config --db other.db   (the settings a scan would use)
    """
    click.echo(show_config(_config_path(), {}, scan=False))
