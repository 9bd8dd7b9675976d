"""docs/report.schema.json (JSON Schema draft 2020-12) against real reports: the golden one
and one from a real scan of the demo web."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from xpostcheck.demo.web import demo_web
from xpostcheck.models import SkipCode
from xpostcheck.pipeline.scan import run_scan
from xpostcheck.report.formats import FORMATS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
GOLDEN = json.loads((ROOT / "tests" / "golden" / "report.json").read_text(encoding="utf-8"))


def _errors(report: Any) -> list[str]:
    validator = Draft202012Validator(SCHEMA)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(report)]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_the_golden_report_follows_the_schema() -> None:
    assert GOLDEN["copies"] and GOLDEN["skipped"] and GOLDEN["resolved"]
    assert _errors(GOLDEN) == []


def test_a_real_scan_report_follows_the_schema(tmp_path: Path) -> None:
    with demo_web() as web:
        result = run_scan(web.settings(db=str(tmp_path / "s.db")))
    report = json.loads(FORMATS["json"].render(result.report, result.context))
    assert len(report["copies"]) == 6 and report["skipped"]
    assert any("first_seen" in c for copy_ in report["copies"] for c in copy_["checks"])
    assert _errors(report) == []


def test_skip_codes_in_the_schema_are_the_ones_the_tool_writes() -> None:
    assert SCHEMA["$defs"]["skipped"]["properties"]["code"]["enum"] == [c.value for c in SkipCode]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("copies", 0, "verdict"), "maybe", "$.copies[0].verdict: 'maybe' is not one of"),
        (("copies", 0, "coverage"), 1.5, "$.copies[0].coverage: 1.5 is greater than"),
        (("copies", 0, "checks", 0, "passed"), "yes", "$.copies[0].checks[0].passed: 'yes' is"),
        (("schema_version",), 2, "$.schema_version: 1 was expected"),
    ],
)
def test_the_schema_rejects_a_broken_report(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    broken = copy.deepcopy(GOLDEN)
    target: Any = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = _errors(broken)
    assert len(errors) == 1 and errors[0].startswith(expected), errors
