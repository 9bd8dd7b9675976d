"""Scan settings from `xpostcheck.toml` (or `--config`), merged under command-line flags.

In: a config file path and the flags' values. Out: a checked, frozen Settings (defaults from
`xpostcheck.options`, the source index path resolved), or ConfigError naming file, line or flag.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from xpostcheck import options
from xpostcheck.errors import ConfigError
from xpostcheck.net.policy import parse_allowed
from xpostcheck.report.formats import FORMATS as _REPORT_FORMATS
from xpostcheck.util.nesting import TOO_DEEP, deep_line
from xpostcheck.util.urls import mask_password, strip_credentials

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FORMATS = tuple(_REPORT_FORMATS)  # the report formats' names: table, json, csv, html
FAIL_ON = ("any", "new", "never")
SMTP_SECURITY = ("starttls", "tls", "none")
ENV_PREFIX = "XPOSTCHECK_"  # XPOSTCHECK_DB, XPOSTCHECK_SMTP_PASSWORD, ...: between file and flag
_LOG = logging.getLogger(__name__)

# key -> expected type(s); lists are lists of strings
_KEYS: dict[str, type | tuple[type, ...]] = {
    "sources": list,
    "rules": str,
    "sites": list,
    "sites_file": str,
    "urls": list,
    "warc": list,  # WARC files or URLs whose pages are checked instead of crawling
    "db": str,
    "index": str,
    "format": str,
    "output": str,
    "fail_on": str,
    "delay": (int, float),
    "threads": int,
    "workers": int,
    "max_pages": int,
    "max_depth": int,
    "contact": str,
    "min_coverage": (int, float),
    "timeout": (int, float),
    "recheck_after": (int, float, str),  # seconds, or a duration such as "12h"
    "rebuild_index": bool,  # build the source index anew (a one-off: better as the flag)
    "no_wait": bool,  # fail at once (exit 3) when another scan holds the database
    "queue": bool,  # run the sites as jobs on `xpostcheck worker` processes (PostgreSQL)
    "allow_private": list,  # HOST or HOST:PORT, like --allow-private
    "quiet": bool,  # cron mode: nothing on stdout unless there are new violations
    # notifications when new violations appear (also in a [notify] table)
    "email_to": list,
    "email_from": str,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_security": str,  # starttls | tls | none
    "smtp_user": str,
    "smtp_password": str,  # better: the XPOSTCHECK_SMTP_PASSWORD environment variable
    "webhook": str,  # a URL that receives {"text": ...} as JSON (Slack-compatible)
}
SECRET = frozenset({"smtp_password"})  # `xpostcheck config` never prints its value
KEYS = tuple(_KEYS)  # every setting's name, in the order `xpostcheck config` shows them

# Flags named by the settings they set, where the flag is not "--" + the key with dashes.
_FLAG_NAMES = {"sites": "--site", "urls": "--url", "fmt": "--format"}


@dataclass(frozen=True)
class Settings:
    """Everything `xpostcheck scan` needs; built from the config file, then the flags."""

    sources: tuple[str, ...] = ()
    rules: str = ""
    sites: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    warc: tuple[str, ...] = ()  # WARC files or URLs: their pages instead of a crawl
    db: str = options.DB
    index: str | None = None  # build_settings: `<db>.index` when not given and db is a file
    format: str = options.FORMAT
    output: str | None = None
    fail_on: str = options.FAIL_ON
    delay: float = options.DELAY
    threads: int = options.THREADS
    workers: int = options.WORKERS  # 0: automatic
    max_pages: int = options.MAX_PAGES
    max_depth: int = options.MAX_DEPTH
    contact: str | None = None
    min_coverage: float = options.MIN_COVERAGE
    timeout: float = options.TIMEOUT
    recheck_after: float = options.RECHECK_AFTER  # seconds; 0 asks again for every page
    rule_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    overrides_where: Mapping[str, str] = field(default_factory=dict)  # rule id -> "file:line"
    rebuild_index: bool = False  # build the saved index anew from this scan's sources
    no_wait: bool = False  # another scan holds the database: fail at once instead of waiting
    queue: bool = False  # the sites run as jobs on `xpostcheck worker` processes
    # non-public hosts the user allows besides the addresses the URLs name: HOST or HOST:PORT
    allow_private: tuple[str, ...] = ()
    quiet: bool = False
    email_to: tuple[str, ...] = ()
    email_from: str = options.EMAIL_FROM
    smtp_host: str | None = None
    smtp_port: int = 0  # 0: 465 with tls, else 587 with starttls, else 25
    smtp_security: str = options.SMTP_SECURITY
    smtp_user: str | None = None
    smtp_password: str | None = None
    webhook: str | None = None


def _override_lines(path: Path, rule_ids: list[str]) -> dict[str, str]:
    """Where each override table starts ("file:line"), for errors found once the pack is known."""
    where = {rule_id: str(path) for rule_id in rule_ids}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return where
    for number, line in enumerate(lines, 1):
        head = re.match(r"\s*\[\s*(?:rules\s*\.\s*)?overrides\s*\.\s*(.+?)\s*\]\s*(#.*)?$", line)
        if head:
            rule_id = head.group(1).strip().strip("\"'")
            if rule_id in where:
                where[rule_id] = f"{path}:{number}"
    return where


def read_config(
    path: str | Path | None, *, origins: dict[str, str] | None = None
) -> dict[str, Any]:
    """Read a config file. `None` reads ./xpostcheck.toml when it exists, else nothing.
    `origins`, when given, receives each setting's "file:line".

    Settings live in a `[scan]` table or at the top level. Values are checked here, so that an
    error names the file and the key; relative paths are relative to the file's folder.
    """
    explicit = path is not None
    p = Path(path) if path is not None else Path(options.CONFIG_FILE)
    if not p.exists():
        if explicit:
            raise ConfigError("config file not found; check the --config path", where=str(p))
        return {}
    try:
        # utf-8-sig: editors on Windows start the file with a byte order mark.
        text = p.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except RecursionError:
        line = deep_line(text)
        where = f"{p}:{line}" if line else str(p)
        raise ConfigError(f"not valid TOML: {TOO_DEEP}", where=where) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{p}:{line}" if line else str(p)
        raise ConfigError(f"not valid TOML: {exc}", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=str(p)) from None
    scan = data.get("scan", data)
    if not isinstance(scan, dict):
        raise ConfigError("[scan] must be a table", where=str(p))
    notify = data.get("notify", {})
    if not isinstance(notify, dict):
        raise ConfigError("[notify] must be a table", where=str(p))
    out: dict[str, Any] = {}
    lines = _key_lines(text)
    where_set = origins if origins is not None else {}
    for key, value in [*scan.items(), *notify.items()]:
        if key == "notify" and isinstance(value, dict):
            continue
        if key in ("rules_override", "overrides"):
            continue
        norm = key.replace("-", "_")
        if norm not in _KEYS or (norm == "rules" and isinstance(value, dict)):
            if isinstance(value, dict):
                continue  # other tables ([rules.overrides] and friends)
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"unknown setting {key!r}; known settings: {known}", where=str(p))
        expected = _KEYS[norm]
        if expected is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(f"setting {key!r} has the wrong type", where=str(p))
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"setting {key!r} must be a list of strings", where=str(p))
        where = f"{p.resolve()}:{lines[key]}" if key in lines else str(p.resolve())
        try:
            out[norm] = check_value(norm, value)
        except ValueError as exc:
            raise ConfigError(f"setting {key!r}{exc}", where=str(p)) from None
        where_set[norm] = where
    rules_table = data.get("rules")
    overrides = data.get("overrides") or (
        rules_table.get("overrides") if isinstance(rules_table, dict) else None
    )
    overrides = overrides or {}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise ConfigError('[overrides."rule-id"] tables must map rule ids to tables', where=str(p))
    if overrides:
        out["rule_overrides"] = overrides
        out["overrides_where"] = _override_lines(p, list(overrides))
    base = p.parent
    for key in ("sites_file", "db", "index", "output"):
        if key in out and not _is_url(out[key]):
            out[key] = str(base / out[key])
    if "sources" in out:
        out["sources"] = [s if _is_url(s) else str(base / s) for s in out["sources"]]
    if "rules" in out and _names_a_file(out["rules"]):
        rules = Path(out["rules"]).expanduser()
        # A bare "x.toml" may name a shipped pack: only a file beside the config takes its place.
        if not rules.is_absolute() and (rules.name != out["rules"] or (base / rules).exists()):
            out["rules"] = str(base / rules)
    return out


def _key_lines(text: str) -> dict[str, int]:
    """The line of each `key = ...` in a TOML text (the first, for keys in two tables)."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        head = re.match(r"\s*([A-Za-z0-9_-]+|\"[^\"]+\")\s*=", line)
        if head:
            found.setdefault(head.group(1).strip('"'), number)
    return found


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "postgresql://", "postgres://"))


def _names_a_file(rules: str) -> bool:
    """A rules setting names a file, not a shipped pack (the test `rules.load_ruleset` makes)."""
    return rules.endswith(".toml") or "/" in rules or "\\" in rules


# --- values ------------------------------------------------------------------------------------
# Each check returns the value to use, or raises ValueError with the rest of a sentence that
# starts with the flag or setting's name (" must be >= 0, not -1", or ": not a duration ...").


def site_url(url: str) -> str:
    """`url` as a site or page to fetch, with its scheme and host lower-cased; ValueError (a
    problem that follows the URL in a message) when it is not an http(s) URL with a host."""
    text = url.strip()
    if not text:
        raise ValueError("no URL given")
    if any(c.isspace() for c in text):
        raise ValueError("contains white space; give one URL each")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 bracket, for one
        raise ValueError(f"not a valid URL ({exc})") from None
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("bad port") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if ":" not in text:  # "example.org/blog": the scheme was left out
            hint = f"https://{text}" if "/" in text else f"https://{text}/"
            raise ValueError(f"not an http(s) URL (write it as {hint})")
        raise ValueError("not an http(s) URL")
    if not parts.hostname:
        raise ValueError("no host name in this URL")
    hostport = parts.netloc.rpartition("@")[2]
    return urlunsplit((scheme, hostport.lower(), parts.path, parts.query, parts.fragment))


def without_credentials(url: str) -> str:
    """`url` without its `user:password@`, with a warning (the password masked) when it had
    one: credentials are never stored, logged, reported or sent."""
    clean = strip_credentials(url)
    if clean != url:
        _LOG.warning(
            "%s: the credentials in this URL are not used or kept; scanning %s",
            mask_password(url),
            clean,
        )
    return clean


_DURATION = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([smhd]?)")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds from "90", "1.5", "45s", "30m", "12h" or "2d"; ValueError when it is none."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise ValueError(
            f"not a duration: {text!r} (give seconds, or a number with s, m, h or d, such as 12h)"
        )
    return float(found.group(1)) * _UNITS[found.group(2)]


def format_duration(seconds: float) -> str:
    """The shortest way `parse_duration` reads back: 43200 -> "12h", 90 -> "90s", 1.5 -> "1.5s"."""
    for unit in ("d", "h", "m"):
        count = seconds / _UNITS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"


def default_index(db: str) -> str | None:
    """The source index file beside a database file (`<db>.index`); None for a database URL,
    which has no folder beside it."""
    return None if "://" in db else f"{db}.index"


def _at_least(
    low: float, *, strict: bool = False, high: float | None = None
) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(" must be a finite number")
        if value < low or (strict and value == low):
            raise ValueError(f" must be {'>' if strict else '>='} {low:g}, not {value}")
        if high is not None and value > high:
            raise ValueError(f" must be <= {high:g}, not {value}")
        return value

    return check


def _share(value: Any) -> Any:
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError(f" must be between 0 and 1, not {value}")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f" must be one of {', '.join(choices)}, not {value!r}")
        return value

    return check


def _urls(values: Any) -> Any:
    out = []
    for url in dict.fromkeys(values):  # one warning per URL given twice
        try:
            out.append(site_url(without_credentials(url)))
        except ValueError as exc:
            raise ValueError(f" {mask_password(url)!r}: {exc}") from None
    return out


def _allowed(values: Any) -> Any:
    for entry in values:
        try:
            parse_allowed(entry)
        except ValueError as exc:
            raise ValueError(f" {entry!r}: {exc} (give HOST or HOST:PORT)") from None
    return list(values)


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except ValueError as exc:
            raise ValueError(f": {exc}") from None
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(" must be a finite number")
    if seconds < 0:
        raise ValueError(f" must be >= 0, not {seconds:g}")  # -1, as written, not -1.0
    return seconds


def _webhook(value: Any) -> Any:
    try:
        return site_url(str(value))
    except ValueError as exc:
        raise ValueError(f" {mask_password(str(value))!r}: {exc}") from None


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "sites": _urls,
    "urls": _urls,
    "allow_private": _allowed,
    "format": _one_of(FORMATS),
    "fail_on": _one_of(FAIL_ON),
    "delay": _at_least(0),
    "threads": _at_least(1, high=options.MAX_THREADS),
    "workers": _at_least(0),
    "max_pages": _at_least(1),
    "max_depth": _at_least(0),
    "min_coverage": _share,
    "timeout": _at_least(0, strict=True, high=options.MAX_TIMEOUT),
    "recheck_after": _duration,
    "smtp_security": _one_of(SMTP_SECURITY),
    "smtp_port": _at_least(0, high=65535),
    "webhook": _webhook,
}


def check_value(key: str, value: Any) -> Any:
    """The value of setting `key` to use (a duration in seconds, a site URL normalised);
    ValueError with the rest of a message that starts with the setting's or flag's name."""
    check = _CHECKS.get(key)
    return check(value) if check else value


def read_sites_file(path: str) -> list[str]:
    """One site URL per line; blank lines and `#` comments ignored."""
    try:
        # utf-8-sig: a byte order mark (Windows editors) is not part of the first URL.
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise ConfigError("sites file not found; check --sites-file", where=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read sites file: {exc}", where=path) from None
    sites = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            sites.append(site_url(without_credentials(line)))
        except ValueError as exc:
            raise ConfigError(f"{mask_password(line)!r}: {exc}", where=f"{path}:{number}") from None
    return sites


def read_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings from `XPOSTCHECK_<KEY>` environment variables (XPOSTCHECK_SMTP_PASSWORD, ...);
    lists are comma-separated. ConfigError names the variable."""
    out: dict[str, Any] = {}
    for key, expected in _KEYS.items():
        name = ENV_PREFIX + key.upper()
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        value: Any = raw
        try:
            if expected is list:
                value = [v.strip() for v in raw.split(",") if v.strip()]
            elif expected is bool:
                if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                    raise ValueError(f": give 1 or 0, not {raw!r}")
                value = raw.lower() in ("1", "true", "yes", "on")
            elif expected is int:
                value = int(raw)
            elif isinstance(expected, tuple) and key != "recheck_after":
                value = float(raw)
            out[key] = check_value(key, value)
        except ValueError as exc:
            text = str(exc)
            problem = text if text.startswith((" ", ":")) else f": not a valid value ({text})"
            raise ConfigError(f"environment variable {name}{problem}") from None
    return out


def origins(
    in_file: Mapping[str, str], flags: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Where each setting in effect comes from: "flag --x", "environment XPOSTCHECK_X",
    "config file PATH:LINE" or "default" (the same order of precedence as build_settings)."""
    found = {key: "default" for key in _KEYS}
    for key, where in in_file.items():
        found[key] = f"config file {where}"
    for key in read_env(env or {}):
        found[key] = f"environment {ENV_PREFIX}{key.upper()}"
    for key, value in flags.items():
        if key in found and value is not None and value != () and value is not False:
            found[key] = f"flag {_FLAG_NAMES.get(key, '--' + key.replace('_', '-'))}"
    return found


def settings_for_command(
    config_path: str | None,
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    scan: bool = False,
) -> tuple[Settings, dict[str, str]]:
    """The settings every command reads (the config file, `config_path` or ./xpostcheck.toml,
    then the environment, then `flags`) and where each came from (`origins`). Without `scan`,
    sources, rules and sites are not required: the commands over a database need only `db`."""
    in_file: dict[str, str] = {}
    config = read_config(config_path, origins=in_file)
    settings = build_settings(config, flags, env=env, scan=scan)
    return settings, origins(in_file, flags, env)


def build_settings(
    config: Mapping[str, Any],
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    scan: bool = True,
) -> Settings:
    """Merge: defaults < config file < environment (`XPOSTCHECK_<KEY>`, when `env` is given)
    < flags (a flag given as None or () does not override). The source index defaults to
    `<db>.index` beside a database file (`default_index`). With `scan=False` (the commands
    that only read the database), sources, rules and sites are not required.

    `config` comes from `read_config`, which has checked its values; flag values are checked
    here and an error names the flag.
    """
    merged: dict[str, Any] = dict(config)
    merged.update(read_env(env or {}))
    for key, value in flags.items():
        if value is None or value == ():
            continue
        try:
            merged[key] = check_value(key, value)
        except ValueError as exc:
            flag = _FLAG_NAMES.get(key, "--" + key.replace("_", "-"))
            raise ConfigError(f"{flag}{exc}") from None
    sites = list(merged.get("sites") or [])
    if merged.get("sites_file"):
        sites.extend(read_sites_file(str(merged["sites_file"])))
    db = str(merged.get("db") or options.DB)
    settings = Settings(
        sources=tuple(
            without_credentials(s) if _is_url(s) else s for s in merged.get("sources") or ()
        ),
        rules=str(merged.get("rules") or ""),
        sites=tuple(dict.fromkeys(sites)),
        urls=tuple(dict.fromkeys(merged.get("urls") or ())),
        warc=tuple(dict.fromkeys(merged.get("warc") or ())),
        db=db,
        index=merged.get("index") or default_index(db),
        format=str(merged.get("format", options.FORMAT)),
        output=merged.get("output"),
        fail_on=str(merged.get("fail_on", options.FAIL_ON)),
        delay=float(merged.get("delay", options.DELAY)),
        threads=int(merged.get("threads", options.THREADS)),
        workers=int(merged.get("workers", options.WORKERS)),
        max_pages=int(merged.get("max_pages", options.MAX_PAGES)),
        max_depth=int(merged.get("max_depth", options.MAX_DEPTH)),
        contact=merged.get("contact"),
        min_coverage=float(merged.get("min_coverage", options.MIN_COVERAGE)),
        timeout=float(merged.get("timeout", options.TIMEOUT)),
        recheck_after=float(merged.get("recheck_after", options.RECHECK_AFTER)),
        rule_overrides=merged.get("rule_overrides") or {},
        overrides_where=merged.get("overrides_where") or {},
        rebuild_index=bool(merged.get("rebuild_index", False)),
        no_wait=bool(merged.get("no_wait", False)),
        queue=bool(merged.get("queue", False)),
        allow_private=tuple(dict.fromkeys(merged.get("allow_private") or ())),
        quiet=bool(merged.get("quiet", False)),
        email_to=tuple(merged.get("email_to") or ()),
        email_from=str(merged.get("email_from") or options.EMAIL_FROM),
        smtp_host=merged.get("smtp_host"),
        smtp_port=int(merged.get("smtp_port", 0)),
        smtp_security=str(merged.get("smtp_security", options.SMTP_SECURITY)),
        smtp_user=merged.get("smtp_user"),
        smtp_password=merged.get("smtp_password"),
        webhook=merged.get("webhook"),
    )
    if settings.email_to and not settings.smtp_host:
        raise ConfigError("email_to is set but smtp_host is not: name the SMTP server to send by")
    if not scan:
        return settings
    if not settings.sources:
        raise ConfigError("no sources: give --sources FILE|URL (or 'sources' in xpostcheck.toml)")
    if not settings.rules:
        raise ConfigError("no rules: give --rules PACK|FILE (see 'xpostcheck rules list')")
    if settings.warc and (settings.sites or settings.urls):
        raise ConfigError("--warc reads pages from archives: give no site or --url with it")
    if not settings.sites and not settings.urls and not settings.warc:
        raise ConfigError("nothing to scan: give a site URL, --sites-file, --url or --warc")
    return settings
