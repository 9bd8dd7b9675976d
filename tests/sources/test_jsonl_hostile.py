"""JSON Lines that other readers accept: line separators inside strings, CRLF line ends; and
JSON nested deeper than the parser's stack, which is one clear error, never a RecursionError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xpostcheck.errors import SourceError
from xpostcheck.sources.loader import load_sources

TEXT = "Divers counting seagrass in Kell Bay found new meadows this spring."

# Characters str.splitlines() breaks on, written raw inside JSON strings: the Unicode ones are
# valid JSON; the ASCII controls are not strictly (JSON wants them escaped), but producers
# write them raw and the reader accepts them as text.
SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_line_separators_inside_strings_are_text(tmp_path: Path, sep: str) -> None:
    record = {"url": "https://pub.example/a", "title": f"One{sep}two", "text": f"{TEXT}{sep}End."}
    src = tmp_path / "sources.jsonl"
    # ensure_ascii=False writes the Unicode ones raw, as many tools do; controls are unescaped.
    line = json.dumps(record, ensure_ascii=False).replace(json.dumps(sep)[1:-1], sep)
    assert sep in line
    second = {"url": "https://pub.example/b", "title": "B", "text": TEXT}
    src.write_text(line + "\n" + json.dumps(second) + "\n", "utf-8")
    articles = load_sources([str(src)])
    assert [(a.url, a.title, a.text) for a in articles] == [
        ("https://pub.example/a", f"One{sep}two", f"{TEXT}{sep}End."),
        ("https://pub.example/b", "B", TEXT),
    ]


def test_crlf_line_ends_and_line_numbers(tmp_path: Path) -> None:
    src = tmp_path / "sources.jsonl"
    good = json.dumps({"url": "https://pub.example/a", "title": "A\u2028B", "text": TEXT})
    src.write_bytes((good + "\r\n\r\n" + "{nope\r\n").encode("utf-8"))
    with pytest.raises(SourceError) as err:
        load_sources([str(src)])
    assert str(err.value) == (
        f"{src}:3: not valid JSON (Expecting property name enclosed in double quotes); "
        "write one JSON object a line"
    )


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_one_clear_error(tmp_path: Path, opener: str) -> None:
    src = tmp_path / "sources.jsonl"
    good = json.dumps({"url": "https://pub.example/a", "title": "A", "text": TEXT})
    src.write_text(good + "\n" + opener * 200_000 + "\n", "utf-8")
    with pytest.raises(SourceError) as err:
        load_sources([str(src)])
    assert str(err.value) == (
        f"{src}:2: JSON nested too deeply to read; write one flat JSON object a line"
    )
