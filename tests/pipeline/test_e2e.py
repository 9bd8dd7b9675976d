"""End to end: a real loopback site, the Global Research pack, the CLI and its exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopback import Server, html, refused_port

from xpostcheck.cli.main import main
from xpostcheck.demo.web import load_corpus

GR = "https://www.globalresearch.ca"


def _paras(text: str) -> str:
    return "".join(f"<p>{p}</p>" for p in text.split("\n\n"))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        '<header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>'
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>A community blog.</p></footer></body></html>"
    )


def _credit(author: str, url: str | None, *, source: bool = True, copyright: bool = True) -> str:
    out = ""
    if source:
        out += "<p>The original source of this article is Global Research</p>"
    if copyright:
        out += f"<p>Copyright © {author}, Global Research, 2026</p>"
    if url:
        out += f'<p><a href="{url}">Read the original article</a></p>'
    return out


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    """The demo's fixture articles, presented as Global Research articles."""
    out = []
    for slug, record in load_corpus().items():
        out.append({**record, "url": f"{GR}/{slug}/5{len(out)}1234"})
    return out


@pytest.fixture(scope="module")
def site(corpus: list[dict[str, Any]]) -> Iterator[str]:
    ferry, library, budget, osprey, dredge = corpus
    pages = {
        "/compliant": _page(
            ferry["title"],
            _paras(ferry["text"])
            + _credit(ferry["author"], ferry["url"].replace("https://www.", "http://") + "/"),
        ),
        "/no-link": _page(
            library["title"], _paras(library["text"]) + _credit(library["author"], None)
        ),
        "/no-copyright": _page(
            budget["title"],
            _paras(budget["text"])
            + _credit(budget["author"], budget["url"] + "?utm_source=feed", copyright=False),
        ),
        "/no-credit": _page(osprey["title"], _paras(osprey["text"])),
        "/unrelated": _page(
            "Garden club meets on Thursday",
            "<p>The garden club will meet on Thursday at seven in the parish hall. Members are "
            "asked to bring seedlings to swap and a plate of something to share. The speaker "
            "will talk about growing tomatoes in a short northern season.</p>",
        ),
    }
    index = "".join(f'<a href="{p}">{p}</a> ' for p in pages)
    pages["/"] = _page("Home", index)
    with Server({path: html(body) for path, body in pages.items()}) as server:
        yield server.base


@pytest.fixture()
def sources(tmp_path: Path, corpus: list[dict[str, Any]]) -> str:
    path = tmp_path / "sources.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    return str(path)


def _scan(*args: str) -> Any:
    return CliRunner().invoke(main, ["scan", *args], catch_exceptions=False)


def test_scan_of_loopback_site_judges_every_check(site: str, sources: str, tmp_path: Path) -> None:
    result = _scan(
        site + "/",
        "--sources",
        sources,
        "--rules",
        "globalresearch",
        "--format",
        "json",
        "--db",
        str(tmp_path / "x.db"),
        "--delay",
        "0",
        "--workers",
        "1",
        "--quiet",
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    judged = {
        c["url"].removeprefix(site): {k["kind"]: k["passed"] for k in c["checks"]}
        for c in report["copies"]
    }
    assert judged == {
        "/compliant": {
            "attribution": True,
            "copyright_notice": True,
            "link_to_original": True,
            "non_commercial": True,
        },
        "/no-link": {
            "attribution": True,
            "copyright_notice": True,
            "link_to_original": False,
            "non_commercial": True,
        },
        "/no-copyright": {
            "attribution": True,
            "copyright_notice": False,
            "link_to_original": True,
            "non_commercial": True,
        },
        "/no-credit": {
            "attribution": False,
            "copyright_notice": False,
            "link_to_original": False,
            "non_commercial": True,
        },
    }
    verdicts = {c["url"].removeprefix(site): c["verdict"] for c in report["copies"]}
    assert verdicts == {
        "/compliant": "compliant",
        "/no-link": "violation",
        "/no-copyright": "violation",
        "/no-credit": "violation",
    }
    assert {c["kind"] for c in report["copies"]} == {"full"}
    assert all(c["coverage"] >= 0.95 for c in report["copies"])
    assert report["scan"]["pages_fetched"] == 6


def test_compliant_single_url_exits_0(site: str, sources: str, tmp_path: Path) -> None:
    result = _scan(
        "--url",
        site + "/compliant",
        "--sources",
        sources,
        "--rules",
        "globalresearch",
        "--db",
        str(tmp_path / "x.db"),
        "--quiet",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert [c["verdict"] for c in json.loads(result.stdout)["copies"]] == ["compliant"]


def _one_error_line(result: Any) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_missing_sources_file_exits_2(site: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = _scan(
        site + "/",
        "--sources",
        str(missing),
        "--rules",
        "globalresearch",
        "--db",
        str(tmp_path / "x.db"),
    )
    assert result.exit_code == 2
    assert str(missing) in _one_error_line(result)


def test_unknown_pack_exits_2(site: str, sources: str, tmp_path: Path) -> None:
    result = _scan(
        site + "/", "--sources", sources, "--rules", "no-such-pack", "--db", str(tmp_path / "x.db")
    )
    assert result.exit_code == 2
    assert "no-such-pack" in _one_error_line(result)


def test_invalid_rule_file_exits_2_naming_file_and_line(
    site: str, sources: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\npublisher = "X"\n[[rule]]\nid = "a"\nkind = = "attribution"\n')
    result = _scan(
        site + "/", "--sources", sources, "--rules", str(bad), "--db", str(tmp_path / "x.db")
    )
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert f"{bad}:5" in line


def test_no_site_reachable_exits_3(sources: str, tmp_path: Path) -> None:
    with refused_port() as port:
        result = _scan(
            f"http://127.0.0.1:{port}/",
            "--sources",
            sources,
            "--rules",
            "globalresearch",
            "--db",
            str(tmp_path / "x.db"),
            "--quiet",
        )
    assert result.exit_code == 3
    assert f"127.0.0.1:{port}" in _one_error_line(result)


def test_nothing_to_scan_is_a_usage_error(sources: str) -> None:
    result = _scan("--sources", sources, "--rules", "globalresearch")
    assert result.exit_code == 2
    assert "nothing to scan" in _one_error_line(result)


def _judged(report: dict[str, Any], site: str) -> dict[str, tuple[str, list[str]]]:
    return {
        c["url"].removeprefix(site): (
            c["verdict"],
            sorted(k["rule"] for k in c["checks"] if not k["passed"]),
        )
        for c in report["copies"]
    }


def test_unchanged_rescan_carries_findings_over(site: str, sources: str, tmp_path: Path) -> None:
    args = [
        site + "/",
        "--sources",
        sources,
        "--rules",
        "globalresearch",
        "-f",
        "json",
        "--db",
        str(tmp_path / "x.db"),
        "--delay",
        "0",
        "--workers",
        "1",
        "--quiet",
    ]
    first = json.loads(_scan(*args).stdout)
    second_run = _scan(*args)
    assert second_run.exit_code == 1
    second = json.loads(second_run.stdout)
    assert _judged(second, site) == _judged(first, site)
    assert second["scan"]["pages_unchanged"] == second["scan"]["pages_fetched"] == 6
    news = [k["new"] for c in second["copies"] for k in c["checks"] if not k["passed"]]
    assert news and not any(news)
    assert (tmp_path / "x.db.index").exists()
    # The HTML side-by-side view still has the unchanged pages' text, read from the evidence.
    html_path = tmp_path / "r.html"
    third = _scan(*args, "--output", str(html_path), "-f", "html")
    assert third.exit_code == 1
    html = html_path.read_text()
    assert "The page text is not in this report" not in html
    assert html.count('<div class="text page">') == 4


def test_process_pool_gives_the_same_verdicts(site: str, sources: str, tmp_path: Path) -> None:
    runs = []
    for workers in ("1", "2"):
        result = _scan(
            site + "/",
            "--sources",
            sources,
            "--rules",
            "globalresearch",
            "-f",
            "json",
            "--db",
            str(tmp_path / f"w{workers}.db"),
            "--delay",
            "0",
            "--workers",
            workers,
            "--quiet",
        )
        assert result.exit_code == 1, result.output
        runs.append(_judged(json.loads(result.stdout), site))
    assert runs[0] == runs[1]
    assert len(runs[0]) == 4


def test_the_publishers_own_page_is_not_a_copy(site: str, tmp_path: Path) -> None:
    """Sources that live on the scanned host itself (the publisher scanning its own site)."""
    ferry = load_corpus()["ferry-schedule-winter"]
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({**ferry, "url": site + "/compliant"}) + "\n")
    result = _scan(
        "--url",
        site + "/compliant",
        "--sources",
        str(own),
        "--rules",
        "globalresearch",
        "--db",
        str(tmp_path / "x.db"),
        "--quiet",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["copies"] == []


def test_a_publisher_on_another_port_of_the_same_host_is_another_site(
    site: str, tmp_path: Path
) -> None:
    """One IP address, two servers: the page on the scanned port copies the article of the
    publisher on the other port, so it is a copy (and it links to neither)."""
    ferry = load_corpus()["ferry-schedule-winter"]
    with Server({}) as publisher:
        original = publisher.base + "/2026/ferry-schedule-winter"
        publisher.routes["/2026/ferry-schedule-winter"] = html(
            _page(ferry["title"], _paras(ferry["text"]))
        )
        own = tmp_path / "own.jsonl"
        own.write_text(json.dumps({**ferry, "url": original}) + "\n")
        result = _scan(
            "--url",
            site + "/compliant",
            "--sources",
            str(own),
            "--rules",
            "globalresearch",
            "--db",
            str(tmp_path / "x.db"),
            "--quiet",
            "-f",
            "json",
        )
    assert result.exit_code == 1, result.output
    copies = json.loads(result.stdout)["copies"]
    assert [(c["url"], c["source_url"], c["kind"]) for c in copies] == [
        (site + "/compliant", original, "full")
    ]
    failed = [k["kind"] for k in copies[0]["checks"] if not k["passed"]]
    assert failed == ["link_to_original"]


def test_the_default_database_lands_in_the_working_folder(
    site: str, sources: str, tmp_path: Path
) -> None:
    """Without --db the scan writes xpostcheck.db where it runs; conftest.py makes that the
    test's own folder, never the repository."""
    result = _scan("--url", site + "/no-link", "--sources", sources, "--rules", "globalresearch")
    assert result.exit_code == 1, result.output
    assert Path.cwd() == tmp_path
    assert (tmp_path / "xpostcheck.db").is_file()


def test_explain_shows_every_check_with_its_evidence(site: str, sources: str) -> None:
    run = CliRunner().invoke(
        main, ["explain", site + "/no-link", "--rules", "globalresearch", "--sources", sources]
    )
    assert run.exit_code == 1, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == site + "/no-link"
    assert "  verdict   violation" in lines
    checks = [
        line.split("]")[0].strip()
        for line in lines
        if line.startswith("  PASS") or line.startswith("  FAIL")
    ]
    assert checks == [
        "PASS error   gr-attribution [attribution",
        "PASS error   gr-copyright [copyright_notice",
        "FAIL error   gr-link [link_to_original",
        "PASS warning gr-non-commercial [non_commercial",
    ]
    assert "       evidence: The original source of this article is Global Research" in lines


def test_explain_of_an_unrelated_page(site: str, sources: str) -> None:
    run = CliRunner().invoke(
        main, ["explain", site + "/unrelated", "--rules", "globalresearch", "--sources", sources]
    )
    assert run.exit_code == 0, run.output
    assert run.stdout == f"{site}/unrelated: no copy of any of the 5 source articles found.\n"
