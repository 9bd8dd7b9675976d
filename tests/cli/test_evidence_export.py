"""`xpostcheck evidence`: one WARC file per export, named by the page (or -o), never
overwriting an earlier export."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web
from xpostcheck.review.evidence import evidence_name


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A scanned database and the URLs of the copies on the site that holds two of them."""
    folder = tmp_path_factory.mktemp("scanned")
    db = folder / "scans.db"
    web: DemoWeb
    with demo_web() as web:
        result = _run(
            "scan",
            *web.sites,
            *("--sources", str(ARTICLES), "--rules", str(RULES), "--db", str(db)),
            *("--delay", "0", "--workers", "1", "-f", "json", "--quiet"),
        )
    copies = [c["url"] for c in json.loads(result.stdout)["copies"]]
    host = copies[0].split("/")[2]
    yield db, [u for u in copies if u.split("/")[2] == host]


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _target(warc: Path) -> bytes:
    head = gzip.decompress(warc.read_bytes())
    return next(line for line in head.splitlines() if line.startswith(b"WARC-Target-URI: "))


def test_names_follow_the_page() -> None:
    assert evidence_name("http://blog.example/posts/harbor.html") == (
        "blog.example_posts_harbor.html.warc.gz"
    )
    assert evidence_name("https://127.0.0.2:8080/") == "127.0.0.2_8080.warc.gz"
    a, b = evidence_name("http://x.example/p?id=1"), evidence_name("http://x.example/p?id=2")
    assert a != b and a.startswith("x.example_p_") and a.endswith(".warc.gz")
    odd = evidence_name("http://x.example/a b/ü/" + "long/" * 40)
    assert len(odd) <= 108 and " " not in odd and "/" not in odd


def test_two_pages_of_one_host_and_the_same_page_twice_never_overwrite(
    scanned: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, (first, second) = scanned
    monkeypatch.chdir(tmp_path)
    one = _run("evidence", first, "--db", str(db))
    two = _run("evidence", second, "--db", str(db))
    again = _run("evidence", first, "--db", str(db))
    assert [r.exit_code for r in (one, two, again)] == [0, 0, 0]
    name = evidence_name(first)
    numbered = name.removesuffix(".warc.gz") + "-2.warc.gz"
    assert again.stdout.endswith(f" to {numbered}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [name, numbered, evidence_name(second)]
    )
    assert (
        _target(tmp_path / name)
        == _target(tmp_path / numbered)
        == (f"WARC-Target-URI: {first}".encode())
    )
    assert _target(tmp_path / evidence_name(second)) == f"WARC-Target-URI: {second}".encode()


def test_an_existing_output_file_is_refused(
    scanned: tuple[Path, list[str]], tmp_path: Path
) -> None:
    db, (first, _) = scanned
    kept = tmp_path / "kept.warc.gz"
    kept.write_bytes(b"earlier evidence")
    result = _run("evidence", first, "--db", str(db), "-o", str(kept))
    assert result.exit_code == 2
    assert result.output == (
        f"xpostcheck: error: {kept}: a file is already there; evidence is never overwritten: "
        "give another -o or leave -o out for a new file named by the page\n"
    )
    assert kept.read_bytes() == b"earlier evidence"
    fresh = tmp_path / "fresh.warc.gz"
    assert _run("evidence", first, "--db", str(db), "-o", str(fresh)).exit_code == 0
    assert _target(fresh) == f"WARC-Target-URI: {first}".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.warc.gz", "kept.warc.gz"]
    piped = _run("evidence", first, "--db", str(db), "-o", "-")
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"\x1f\x8b")
