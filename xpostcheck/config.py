"""Scan settings from `xpostcheck.toml` (or `--config`), merged under command-line flags."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_CONFIG = "xpostcheck.toml"
DEFAULT_DB = "xpostcheck.db"
FORMATS = ("table", "json", "csv", "html")

# key -> expected type(s); lists are lists of strings
_KEYS: dict[str, type | tuple[type, ...]] = {
    "sources": list,
    "rules": str,
    "sites": list,
    "sites_file": str,
    "urls": list,
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
}


@dataclass(frozen=True)
class Settings:
    """Everything `xpostcheck scan` needs; built from the config file, then the flags."""

    sources: tuple[str, ...] = ()
    rules: str = ""
    sites: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    db: str = DEFAULT_DB
    index: str | None = None
    format: str = "table"
    output: str | None = None
    fail_on: str = "any"
    delay: float = 1.0
    threads: int = 16
    workers: int = 0  # 0: automatic
    max_pages: int = 500
    max_depth: int = 10
    contact: str | None = None
    min_coverage: float = 0.15
    timeout: float = 30.0
    rule_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def read_config(path: str | Path | None) -> dict[str, Any]:
    """Read a config file. `None` reads ./xpostcheck.toml when it exists, else nothing."""
    explicit = path is not None
    p = Path(path) if path is not None else Path(DEFAULT_CONFIG)
    if not p.exists():
        if explicit:
            raise ConfigError("config file not found; check the --config path", where=str(p))
        return {}
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{p}:{line}" if line else str(p)
        raise ConfigError(f"not valid TOML: {exc}", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=str(p)) from None
    scan = data.get("scan", data)
    if not isinstance(scan, dict):
        raise ConfigError("[scan] must be a table", where=str(p))
    out: dict[str, Any] = {}
    for key, value in scan.items():
        if key in ("rules_override", "overrides"):
            continue
        norm = key.replace("-", "_")
        if norm not in _KEYS:
            if isinstance(value, dict):
                continue  # other tables ([rules.overrides] and friends)
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"unknown setting {key!r}; known settings: {known}", where=str(p))
        expected = _KEYS[norm]
        if expected is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"setting {key!r} has the wrong type", where=str(p))
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"setting {key!r} must be a list of strings", where=str(p))
        out[norm] = value
    overrides = data.get("overrides") or (data.get("rules") or {}).get("overrides") or {}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise ConfigError('[overrides."rule-id"] tables must map rule ids to tables', where=str(p))
    if overrides:
        out["rule_overrides"] = overrides
    if "rules" in out and not isinstance(out["rules"], str):
        del out["rules"]
    base = p.parent
    for key in ("sites_file", "db", "index", "output"):
        if key in out and not _is_url(out[key]):
            out[key] = str(base / out[key])
    if "sources" in out:
        out["sources"] = [s if _is_url(s) else str(base / s) for s in out["sources"]]
    return out


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "postgresql://", "postgres://"))


def read_sites_file(path: str) -> list[str]:
    """One site URL per line; blank lines and `#` comments ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError("sites file not found; check --sites-file", where=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read sites file: {exc}", where=path) from None
    sites = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith(("http://", "https://")):
            raise ConfigError(
                f"not an http(s) URL: {line!r} (write one site URL per line)",
                where=f"{path}:{number}",
            )
        sites.append(line)
    return sites


def build_settings(config: Mapping[str, Any], flags: Mapping[str, Any]) -> Settings:
    """Merge: defaults < config file < flags (a flag given as None or () does not override)."""
    merged: dict[str, Any] = dict(config)
    for key, value in flags.items():
        if value is None or value == ():
            continue
        merged[key] = value
    sites = list(merged.get("sites") or [])
    if merged.get("sites_file"):
        sites.extend(read_sites_file(str(merged["sites_file"])))
    fmt = str(merged.get("format", "table"))
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fail_on = str(merged.get("fail_on", "any"))
    if fail_on not in ("any", "new"):
        raise ConfigError(f"--fail-on must be 'any' or 'new', not {fail_on!r}")
    settings = Settings(
        sources=tuple(merged.get("sources") or ()),
        rules=str(merged.get("rules") or ""),
        sites=tuple(dict.fromkeys(sites)),
        urls=tuple(dict.fromkeys(merged.get("urls") or ())),
        db=str(merged.get("db") or DEFAULT_DB),
        index=merged.get("index"),
        format=fmt,
        output=merged.get("output"),
        fail_on=fail_on,
        delay=float(merged.get("delay", 1.0)),
        threads=int(merged.get("threads", 16)),
        workers=int(merged.get("workers", 0)),
        max_pages=int(merged.get("max_pages", 500)),
        max_depth=int(merged.get("max_depth", 10)),
        contact=merged.get("contact"),
        min_coverage=float(merged.get("min_coverage", 0.15)),
        timeout=float(merged.get("timeout", 30.0)),
        rule_overrides=merged.get("rule_overrides") or {},
    )
    if not settings.sources:
        raise ConfigError("no sources: give --sources FILE|URL (or 'sources' in xpostcheck.toml)")
    if not settings.rules:
        raise ConfigError("no rules: give --rules PACK|FILE (see 'xpostcheck rules list')")
    if not settings.sites and not settings.urls:
        raise ConfigError("nothing to scan: give a site URL, --sites-file or --url")
    for url in settings.sites + settings.urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"not an http(s) URL: {url!r}")
    if settings.delay < 0 or settings.threads < 1 or settings.max_pages < 1:
        raise ConfigError("--delay must be >= 0, --threads and --max-pages >= 1")
    return settings
