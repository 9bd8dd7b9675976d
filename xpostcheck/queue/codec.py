"""What goes into the queue's tables as JSON: Settings, site units and their results.

In: the pipeline's frozen dataclasses. Out: plain JSON values, and back. Copies and skips use
the report's own JSON contract (`report.jsonfmt`), so that a result read back is the result
the site job judged, field for field.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from xpostcheck.config import Settings
from xpostcheck.models import Report, ScanInfo, Skipped
from xpostcheck.pipeline.site import SiteResult, SiteUnit
from xpostcheck.report.jsonfmt import report_from_dict, report_to_dict

__all__ = [
    "result_from_json",
    "result_to_json",
    "settings_from_json",
    "settings_to_json",
    "skips_from_json",
    "skips_to_json",
    "unit_from_json",
    "unit_to_json",
]

_TUPLES = {f.name for f in dataclasses.fields(Settings) if str(f.type).startswith("tuple")}
_NAMES = {f.name for f in dataclasses.fields(Settings)}


def settings_to_json(settings: Settings) -> dict[str, Any]:
    """The settings a worker needs, with file paths made absolute (a worker resolves them
    from its own folder otherwise). Sources are read by whoever begins the scan, not by the
    workers, so they stay as given."""
    data = dataclasses.asdict(settings)
    for key in ("rules", "index", "output"):
        value = data.get(key)
        if value and "://" not in value and value != "-" and os.path.exists(value):
            data[key] = os.path.abspath(value)
    if data["db"] and "://" not in data["db"]:
        data["db"] = os.path.abspath(data["db"])
    return data


def settings_from_json(data: Mapping[str, Any]) -> Settings:
    """Settings back from `settings_to_json` (keys this version does not know are dropped)."""
    values: dict[str, Any] = {
        k: (tuple(v) if k in _TUPLES else v) for k, v in data.items() if k in _NAMES
    }
    return Settings(**values)


def unit_to_json(unit: SiteUnit) -> dict[str, Any]:
    return {"sites": list(unit.sites), "urls": list(unit.urls)}


def unit_from_json(data: Mapping[str, Any]) -> SiteUnit:
    return SiteUnit(tuple(data.get("sites", ())), tuple(data.get("urls", ())))


def _as_report(copies: tuple[Any, ...], skipped: tuple[Skipped, ...]) -> dict[str, Any]:
    info = ScanInfo(started="", finished="", sources=0, pages_fetched=0)
    return report_to_dict(Report(scan=info, copies=copies, skipped=skipped))


def result_to_json(result: SiteResult) -> dict[str, Any]:
    carried = set(map(id, result.carried))
    return {
        "unit": unit_to_json(result.unit),
        "report": _as_report(result.copies, result.skipped),
        "carried": [i for i, c in enumerate(result.copies) if id(c) in carried],
        "texts": dict(result.texts),
        "fetched": result.fetched,
        "unchanged": result.unchanged,
    }


def result_from_json(data: Mapping[str, Any]) -> SiteResult:
    report = report_from_dict(data["report"])
    carried = set(data.get("carried", ()))
    return SiteResult(
        unit=unit_from_json(data["unit"]),
        copies=report.copies,
        carried=tuple(c for i, c in enumerate(report.copies) if i in carried),
        skipped=report.skipped,
        texts=dict(data.get("texts", {})),
        fetched=int(data.get("fetched", 0)),
        unchanged=int(data.get("unchanged", 0)),
    )


def skips_to_json(skipped: tuple[Skipped, ...]) -> list[dict[str, Any]]:
    return list(_as_report((), skipped)["skipped"])


def skips_from_json(data: list[Any]) -> tuple[Skipped, ...]:
    info = _as_report((), ())
    info["skipped"] = data
    return report_from_dict(info).skipped
