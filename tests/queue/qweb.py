"""A web of loopback hosts for the queue's tests and benchmark, and worker processes to run.

- `Host`: one ThreadingHTTPServer on 127.0.0.1 (its own port: its own host for politeness and
  locks) answering after `latency` seconds, logging every request's start and end
  (`time.monotonic()`, comparable across the hosts of one process).
- `build_web(n, pages, latency)`: `n` hosts; each home page links `pages` pages, of which some
  are copies of the demo corpus's articles with the credit (compliant), some copies without
  (violations), the rest unrelated text. Returns the hosts and a JSON Lines sources text.
- `overlaps(host)`, `min_gap(host)`: what the servers measured.
- `Workers`: `xpostcheck worker` processes started and stopped by pid.
"""

from __future__ import annotations

import html as htmlmod
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xpostcheck.config import Settings
from xpostcheck.demo.web import load_corpus
from xpostcheck.pipeline.scan import ScanResult
from xpostcheck.queue.scans import run_queued_scan

PUBLISHER = "The Lakeside Ledger"
RULES = str(Path(__file__).resolve().parents[2] / "xpostcheck" / "demo" / "rules.toml")


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (a crawl stopped, a worker killed) is no news here


class Host:
    def __init__(self, pages: dict[str, str], latency: float) -> None:
        self.pages = pages
        self.latency = latency
        self.log: list[tuple[float, float, str]] = []  # (start, end, path)
        self.lock = threading.Lock()
        host = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                start = time.monotonic()
                time.sleep(host.latency)
                body = host.pages.get(self.path.split("?")[0])
                status = 200 if body is not None else 404
                data = (body or "<p>not found</p>").encode()
                end = time.monotonic()  # the answer is ready: the client may go on from here
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                with host.lock:
                    host.log.append((start, end, self.path))

        self.httpd = _Quiet(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.log.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{htmlmod.escape(title)}</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><main><article>"
        f"<h1>{htmlmod.escape(title)}</h1>{body}</article></main></body></html>"
    )


def _copy(article: dict[str, Any], *, credited: bool) -> str:
    paras = "".join(f"<p>{htmlmod.escape(p)}</p>" for p in article["text"].split("\n\n"))
    if credited:
        year = str(article["published"])[:4]
        paras += (
            f"<p>The original source of this article is {PUBLISHER}</p>"
            f"<p>Copyright © {htmlmod.escape(article['author'])}, {PUBLISHER}, {year}</p>"
            f'<p>Read the original: <a href="{article["url"]}">'
            f"{htmlmod.escape(article['title'])}</a></p>"
        )
    return _page(article["title"], paras)


def build_web(n: int, pages: int, latency: float) -> tuple[list[Host], str]:
    corpus = list(load_corpus().values())
    hosts = []
    for h in range(n):
        site: dict[str, str] = {}
        links = "".join(f'<p><a href="/p{i}">Story {i}</a></p>' for i in range(pages))
        site["/"] = _page(f"Site {h}", links)
        for i in range(pages):
            kind = (h + i) % 3
            article = corpus[(h + i) % len(corpus)]
            if kind == 2:
                site[f"/p{i}"] = _page(
                    f"Local notes {h}-{i}",
                    f"<p>Council notes for week {i} on site {h}: roads, parks and a bake sale.</p>",
                )
            else:
                site[f"/p{i}"] = _copy(article, credited=kind == 0)
        hosts.append(Host(site, latency))
    sources = "".join(json.dumps(a) + "\n" for a in corpus)
    return hosts, sources


def overlaps(host: Host) -> int:
    """Requests to `host` that started before the previous one ended."""
    log = sorted(host.log)
    return sum(1 for a, b in zip(log, log[1:], strict=False) if b[0] < a[1])


def min_gap(host: Host) -> float | None:
    """The shortest time from the end of one request to `host` to the start of the next."""
    log = sorted(host.log)
    gaps = [b[0] - a[1] for a, b in zip(log, log[1:], strict=False)]
    return min(gaps) if gaps else None


def verdicts(report: Any) -> list[tuple[str, str, str, str]]:
    """(url, source, kind, verdict) of every copy, sorted: what two scans must agree on."""
    return sorted((c.url, c.source_url, c.kind, c.verdict) for c in report.copies)


class Workers:
    """`xpostcheck worker` processes, started here and stopped by their own pids."""

    def __init__(self, db: str, queue_db: str, folder: Path, *, heartbeat: float = 1.0) -> None:
        self.db = db
        self.queue_db = queue_db
        self.folder = folder
        self.heartbeat = heartbeat
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            n = len(self.procs)
            log = open(self.folder / f"worker{n}.log", "wb")  # noqa: SIM115 (closed by the OS)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "xpostcheck.cli.main",
                    "worker",
                    "--db",
                    self.db,
                    "--queue-db",
                    self.queue_db,
                    "--heartbeat",
                    str(self.heartbeat),
                    "--name",
                    f"w{n}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            log.close()
            self.procs.append(proc)
            started.append(proc)
        return started

    def stop(self, timeout: float = 60.0) -> list[int | None]:
        """SIGTERM every worker still running, wait for it; the exit codes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.folder.glob("worker*.log"))
        )


def in_thread(settings: Settings, url: str) -> tuple[threading.Thread, dict[str, Any]]:
    """Run a queued scan in a thread: (the thread, where its result or error lands)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = run_queued_scan(settings, url)
        except BaseException as exc:  # the test reports it
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def finished(thread: threading.Thread, out: dict[str, Any], workers: Workers) -> ScanResult:
    """The queued scan's result, once its thread ends (at most 120 s; the workers' logs on
    failure)."""
    thread.join(timeout=120)
    assert not thread.is_alive(), "the queued scan did not finish in 120 s:\n" + workers.logs()
    assert "error" not in out, f"{out.get('error')!r}\n{workers.logs()}"
    result = out["result"]
    assert isinstance(result, ScanResult)
    return result
