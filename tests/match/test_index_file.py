"""The index file under concurrent writers, damage and killed saves (issue 12): a save merges
what another process saved meanwhile, every damaged byte is refused by the checksum, and the
temporary file of a save killed mid-way is removed by the next save or load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xpostcheck.match.index import IndexDamaged, SourceIndex
from xpostcheck.models import SourceArticle


def _article(n: int) -> SourceArticle:
    words = " ".join(f"w{n}x{i}" for i in range(120))
    return SourceArticle(url=f"https://pub.example/{n}", title=f"T{n}", text=words)


_WRITER = textwrap.dedent(
    """
    import sys
    from xpostcheck.match.index import SourceIndex
    from xpostcheck.models import SourceArticle
    path, n = sys.argv[1], int(sys.argv[2])
    index = SourceIndex.load(path)
    print("loaded", flush=True)
    sys.stdin.readline()  # the test says when to save
    words = " ".join(f"w{n}x{i}" for i in range(120))
    index.add([SourceArticle(url=f"https://pub.example/{n}", title=f"T{n}", text=words)])
    index.save(path)
    print("saved", flush=True)
    """
)


def test_two_processes_that_loaded_one_index_both_keep_their_new_article(tmp_path: Path) -> None:
    path = tmp_path / "sources.index"
    base = SourceIndex()
    base.add([_article(0)])
    base.save(path)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    try:
        for writer in writers:  # both hold a loaded copy before either saves
            assert writer.stdout is not None and writer.stdout.readline() == "loaded\n"
        for writer in writers:  # one after the other: the second saved over the first
            assert writer.stdin is not None and writer.stdout is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert writer.stdout.readline() == "saved\n"
            assert writer.wait(timeout=60) == 0
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    final = SourceIndex.load(path)
    assert sorted(a.url for a in final.articles()) == [
        "https://pub.example/0",
        "https://pub.example/1",
        "https://pub.example/2",
    ]
    assert [m.source_url for m in final.match(_article(1).text)] == ["https://pub.example/1"]


def test_replace_writes_the_index_alone(tmp_path: Path) -> None:
    path = tmp_path / "sources.index"
    first = SourceIndex()
    first.add([_article(1)])
    first.save(path)
    other = SourceIndex()
    other.add([_article(2)])
    other.save(path, replace=True)  # --rebuild-index: the sources given, no others
    assert [a.url for a in SourceIndex.load(path).articles()] == ["https://pub.example/2"]


def _saved(tmp_path: Path) -> tuple[Path, bytes, dict[str, list[object]]]:
    path = tmp_path / "sources.index"
    index = SourceIndex()
    index.add([_article(n) for n in range(3)])
    index.save(path)
    data = path.read_bytes()
    header = json.loads(data[24 : 24 + int.from_bytes(data[16:24], "little")])
    assert header["checksum"] == "sha256"
    return path, data, header["arrays"]


@pytest.mark.parametrize("array", ["postings", "text", "keys"])
def test_one_damaged_byte_anywhere_in_the_arrays_is_refused(tmp_path: Path, array: str) -> None:
    path, data, arrays = _saved(tmp_path)
    _dtype, _shape, offset = arrays[array]
    assert isinstance(offset, int)
    damaged = bytearray(data)
    damaged[offset + 1] ^= 0x01  # a postings entry still in range, a letter of a text
    path.write_bytes(bytes(damaged))
    with pytest.raises(IndexDamaged) as err:
        SourceIndex.load(path)
    assert str(err.value) == (
        f"{path}: the index is damaged (its checksum does not match its contents);"
        " delete the file so that the next scan rebuilds it"
    )


def test_damaged_header_text_and_a_cut_file_are_damage_not_another_format(tmp_path: Path) -> None:
    path, data, _arrays = _saved(tmp_path)
    start = data.index(b'"urls"')
    path.write_bytes(data[:start] + b"\xff\xfe" + data[start + 2 :])
    with pytest.raises(IndexDamaged, match="cannot read the index"):
        SourceIndex.load(path)
    path.write_bytes(data[:5])
    with pytest.raises(IndexDamaged, match="cut short"):
        SourceIndex.load(path)
    path.write_bytes(data[:-1])
    with pytest.raises(IndexDamaged, match="checksum"):
        SourceIndex.load(path)


def _killed_saver_temp(folder: Path, name: str) -> Path:
    """The temporary file of a save whose process was killed (kill -9) mid-way."""
    script = (
        "import os, sys, tempfile\n"
        "fd, tmp = tempfile.mkstemp(prefix=f'.{sys.argv[2]}.{os.getpid()}.', suffix='.tmp',"
        " dir=sys.argv[1])\n"
        "os.write(fd, b'XPCINDEX' + b'half a save' * 1000)\n"
        "print(tmp, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), name], capture_output=True, text=True
    )
    assert done.returncode == -9
    return Path(done.stdout.strip())


def test_a_killed_saves_temp_file_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "sources.index"
    stale = _killed_saver_temp(tmp_path, path.name)
    live = tmp_path / f".{path.name}.{os.getpid()}.inflight.tmp"  # this process: alive
    live.write_bytes(b"a save in progress")
    other = tmp_path / ".other.index.1.x.tmp"  # another file's: not ours to remove
    other.write_bytes(b"")
    assert stale.exists()
    index = SourceIndex()
    index.add([_article(1)])
    index.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, live.name, other.name])
    stale = _killed_saver_temp(tmp_path, path.name)
    SourceIndex.load(path)
    assert not stale.exists()
