"""benchmarks/pan.py reads any PAN text alignment corpus: a tiny one written here (made-up
texts), as a folder and as a tarball, with a top folder of any name, a subset of an unknown
kind, a subset without a ``pairs`` file and the random-obfuscation subset missing."""

from __future__ import annotations

import importlib.util
import json
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

_SOURCE = (
    "The harbour board met on Tuesday to settle the dredging contract for the northern "
    "channel. Members argued for three hours about the cost of moving silt away from the "
    "ferry berths, and the chair finally called a vote late in the evening. The contract "
    "went to a firm from the coast that had promised to finish before the spring tides. "
    "Fishermen who depend on the channel said they were relieved that work would start."
)
_OTHER = (
    "A small orchard on the hill grows eleven kinds of apple, some of them planted by a "
    "schoolteacher a century ago. Volunteers prune the trees each winter and press the "
    "fruit into juice that is sold at the village fair to pay for new saplings."
)
_FILLER = (
    "Weather notes from the valley: rain in the morning, clearing by noon, and a cold wind "
    "from the north that kept most walkers off the ridge for the rest of the afternoon."
)


def _pan() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pan_corpus", ROOT / "benchmarks" / "pan.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _case(susp: str, src: str, at: int, length: int, src_at: int, src_length: int) -> str:
    return (
        f'<document reference="{susp}">\n<feature name="plagiarism" this_offset="{at}" '
        f'this_length="{length}" source_reference="{src}" source_offset="{src_at}" '
        f'source_length="{src_length}"/>\n</document>\n'
    )


def _write(top: Path) -> None:
    """Two sources, two suspicious documents; a verbatim subset with a pairs file, an
    unknown-kind subset without one, a no-plagiarism subset; no random obfuscation."""
    (top / "src").mkdir(parents=True)
    (top / "susp").mkdir()
    (top / "src" / "source-document00001.txt").write_text(_SOURCE, encoding="utf-8")
    (top / "src" / "source-document00002.txt").write_text(_OTHER, encoding="utf-8")
    copied = _FILLER + " " + _SOURCE + " " + _FILLER
    at = len(_FILLER) + 1
    (top / "susp" / "suspicious-document00001.txt").write_text(copied, encoding="utf-8")
    (top / "susp" / "suspicious-document00002.txt").write_text(_FILLER, encoding="utf-8")
    verbatim = top / "02-no-obfuscation"
    verbatim.mkdir()
    (verbatim / "pairs").write_text(
        "suspicious-document00001.txt source-document00001.txt\n\n", encoding="utf-8"
    )
    (verbatim / "suspicious-document00001-source-document00001.xml").write_text(
        _case(
            "suspicious-document00001.txt",
            "source-document00001.txt",
            at,
            len(_SOURCE),
            0,
            len(_SOURCE),
        ),
        encoding="utf-8",
    )
    odd = top / "07-made-up-kind"  # no pairs file: the pairs come from the XML names
    odd.mkdir()
    (odd / "suspicious-document00001-source-document00001.xml").write_text(
        _case(
            "suspicious-document00001.txt",
            "source-document00001.txt",
            at,
            len(_SOURCE),
            0,
            len(_SOURCE),
        ),
        encoding="utf-8",
    )
    none = top / "01-no-plagiarism"
    none.mkdir()
    (none / "pairs").write_text(
        "suspicious-document00002.txt source-document00002.txt\n", encoding="utf-8"
    )
    (none / "suspicious-document00002-source-document00002.xml").write_text(
        '<document reference="suspicious-document00002.txt">\n</document>\n', encoding="utf-8"
    )


@pytest.fixture(scope="module")
def pan() -> ModuleType:
    return _pan()


@pytest.mark.parametrize("packed", [False, True])
def test_any_pan_corpus_is_read_with_the_subsets_it_has(
    pan: ModuleType, tmp_path: Path, packed: bool
) -> None:
    top = tmp_path / "pan99-text-alignment-some-corpus-1999"
    _write(top)
    path = top
    if packed:
        path = tmp_path / "corpus.tgz"
        with tarfile.open(path, "w:gz") as tar:
            tar.add(top, arcname=top.name)
    corpus = pan.load_corpus(path)
    assert corpus.subsets == ["01-no-plagiarism", "02-no-obfuscation", "07-made-up-kind"]
    assert corpus.pairs["07-made-up-kind"] == [
        ("suspicious-document00001.txt", "source-document00001.txt")
    ]
    assert len(corpus.cases["02-no-obfuscation"]) == 1
    assert corpus.cases["01-no-plagiarism"] == []
    figures = pan.run(corpus, ["pair", "index"])
    for mode in ("pair_off", "index_off", "pair_shipped", "index_shipped"):
        got = figures[mode]
        assert sorted(got) == ["07-made-up-kind", "none", "verbatim"]
        assert got["none"]["detections"] == 0, (mode, got)
    for mode in ("pair_off", "index_off"):
        assert figures[mode]["verbatim"]["recall"] >= 0.95, figures[mode]
        assert figures[mode]["07-made-up-kind"]["recall"] >= 0.95, figures[mode]


def test_the_command_prints_one_json_line_for_a_folder_given(tmp_path: Path) -> None:
    top = tmp_path / "anything"
    _write(top)
    import subprocess

    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pan.py"), "--corpus", str(top)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["subsets"] == ["none", "verbatim", "07-made-up-kind"]
    assert "random" not in result["index_off"]


def test_a_path_without_a_corpus_says_so(pan: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="src/ and susp/"):
        pan.load_corpus(tmp_path / "empty")
    with pytest.raises(SystemExit, match="no PAN text alignment corpus"):
        pan.load_corpus(tmp_path / "nothing-here")
