"""Cron mode and notifications (issue 13): `--quiet` says something only when something is
new, `--fail-on any|new|never`, e-mail through a real local SMTP server (aiosmtpd) and a
webhook on a loopback HTTP server, and a failed delivery that keeps the alert for the next run
(exit 4).

Real CLI scans (CliRunner) of a loopback site, configured by an xpostcheck.toml in the test's
folder, as a crontab line would run them.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from click.testing import CliRunner, Result
from loopback import QuietHTTPServer, Server, refused_port

from xpostcheck.cli.main import main

PUB = "https://www.globalresearch.ca"
ARTICLES = {
    "a": (
        f"{PUB}/harbor-dredging/5800001",
        "Harbor to be dredged",
        "The harbor commission voted on Tuesday to dredge the north channel before the autumn "
        "storms arrive, ending two years of argument about cost and about the eelgrass beds.\n\n"
        "Fishing crews had asked for the work to begin in spring, when fewer boats use the "
        "channel, but the dredging contractor could not bring its barge north until late "
        "August this year.\n\nThe commission chair said the vote was close and that night "
        "access for the crews would be reviewed each week while the channel stays closed.",
    ),
    "b": (
        f"{PUB}/library-sundays/5800002",
        "Library Sundays",
        "The town library will open on Sundays from the first weekend of May, the trustees said "
        "after a year in which volunteers kept the reading room open on a trial basis.\n\n"
        "Volunteers will staff the front desk, and the children's room will host a story hour "
        "at eleven each Sunday morning for readers from three to seven years old.\n\nThe "
        "trustees thanked the friends of the library, whose book sales paid for the extra "
        "heating and lighting that the longer opening hours will need through the winter.",
    ),
}


def _copy(name: str) -> tuple[int, dict[str, str], bytes]:
    """A copy with credit and copyright but no link to the original: a violation."""
    _url, title, text = ARTICLES[name]
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    body = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        f"<main><article><h1>{title}</h1>{paras}<p>The original source of this article is "
        f"Global Research</p><p>Copyright © Ana Ruiz, Global Research, 2024</p></article>"
        f"</main></body></html>"
    ).encode()
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


class Site:
    """A loopback republisher whose pages can be added between two nights."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def publish(self, *names: str) -> None:
        links = " ".join(f'<a href="/{n}">{n}</a>' for n in names)
        self.server.routes["/"] = (200, {"Content-Type": "text/html"}, links.encode())
        for name in names:
            self.server.routes[f"/{name}"] = _copy(name)


@pytest.fixture()
def site() -> Iterator[Site]:
    routes: dict[str, Any] = {"/robots.txt": (404, {"Content-Type": "text/plain"}, b"")}
    with Server(routes) as server:
        yield Site(server)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        from email import message_from_bytes

        raw = envelope.original_content or b""
        self.messages.append((envelope, message_from_bytes(raw)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on loopback."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


def _sources(folder: Path) -> Path:
    path = folder / "articles.jsonl"
    rows = (
        {"url": u, "title": t, "author": "Ana Ruiz", "published": "2024-03-02", "text": x}
        for u, t, x in ARTICLES.values()
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _config(folder: Path, site: Site, **extra: Any) -> Path:
    """The xpostcheck.toml of a cron job: quiet, new violations only, notified."""
    _sources(folder)
    lines = [
        "[scan]",
        "sources = ['articles.jsonl']",
        "rules = 'globalresearch'",
        f"sites = ['{site.server.base}/']",
        "db = 'cron.db'",
        "delay = 0",
        "workers = 1",
        "recheck_after = 0",
        "quiet = true",
        "fail_on = 'new'",
        "[notify]",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    path = folder / "xpostcheck.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _night(env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["scan"], env=env)


def test_a_week_of_cron_runs(tmp_path: Path, site: Site, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    _config(
        tmp_path,
        site,
        email_to=["editor@example.org"],
        email_from="xpostcheck@example.org",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )
    a_url, b_url = f"{site.server.base}/a", f"{site.server.base}/b"
    site.publish("a")

    # Night 1: the first run finds the copy: it is new, said once on stdout and mailed once.
    first = _night()
    assert first.exit_code == 1, first.output
    assert first.stdout.splitlines()[0].startswith("xpostcheck: 1 new violation (scan #")
    assert a_url in first.stdout
    assert first.stderr == ""
    assert len(box.messages) == 1
    envelope, mail = box.messages[0]
    assert envelope.rcpt_tos == ["editor@example.org"]
    assert mail["Subject"] == "xpostcheck: 1 new violation"
    assert a_url in mail.get_payload()

    # Night 2: nothing new: nothing printed, nothing mailed, exit 0.
    quiet = _night()
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert len(box.messages) == 1

    # Night 3: a new copy appears while the mail server is down: the scan says what is new,
    # names the failed delivery in one line, exits 4 and keeps the alert.
    site.publish("a", "b")
    with refused_port() as dead:
        failed = _night({"XPOSTCHECK_SMTP_PORT": str(dead)})
    assert failed.exit_code == 4, failed.output
    assert b_url in failed.stdout and a_url not in failed.stdout
    assert failed.stderr.startswith(f"xpostcheck: error: smtp://127.0.0.1:{dead}: could not")
    assert "sent again next run" in failed.stderr
    assert len(failed.stderr.splitlines()) == 1 and "Traceback" not in failed.output
    assert len(box.messages) == 1

    # Night 4: the server is back: the same alert goes out, once, and only for /b.
    retried = _night()
    assert retried.exit_code == 1, retried.output
    assert b_url in retried.stdout and a_url not in retried.stdout
    assert len(box.messages) == 2
    body = box.messages[1][1].get_payload()
    assert b_url in body and a_url not in body

    # Nights 5 to 7: quiet again.
    for _ in range(3):
        night = _night()
        assert (night.exit_code, night.stdout, night.stderr) == (0, "", "")
    assert len(box.messages) == 2


class Hook:
    """A loopback webhook receiver: answers `status` and keeps the JSON bodies it got."""

    def __init__(self) -> None:
        self.status = 200
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                assert self.headers.get("Content-Type") == "application/json"
                if hook.status == 200:
                    hook.bodies.append(json.loads(data))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.close()


def test_a_webhook_gets_the_new_violations_and_a_failure_is_retried(
    tmp_path: Path, site: Site, hook: Hook
) -> None:
    _config(tmp_path, site, webhook=hook.url)
    site.publish("a")
    hook.status = 500
    failed = _night()
    assert failed.exit_code == 4, failed.output
    assert failed.stderr.startswith(f"xpostcheck: error: {hook.url}: could not deliver")
    assert hook.bodies == []

    hook.status = 200
    sent = _night()
    assert sent.exit_code == 1, sent.output
    assert len(hook.bodies) == 1
    text = hook.bodies[0]["text"]
    assert text.startswith("xpostcheck: 1 new violation") and f"{site.server.base}/a" in text

    assert _night().exit_code == 0
    assert len(hook.bodies) == 1


def test_a_webhook_on_a_private_address_the_config_does_not_name_is_refused(
    tmp_path: Path, site: Site, hook: Hook
) -> None:
    """The webhook goes through the address policy: a host name resolving to loopback is not
    an address the user named (only --allow-private could allow it)."""
    _config(tmp_path, site, webhook=hook.url.replace("127.0.0.1", "localhost"))
    site.publish("a")
    result = _night()
    assert result.exit_code == 4, result.output
    assert "could not deliver the webhook" in result.stderr
    assert hook.bodies == []


@pytest.mark.parametrize(
    ("fail_on", "codes"), [("any", (1, 1)), ("new", (1, 0)), ("never", (0, 0))]
)
def test_fail_on_decides_the_exit_code(
    tmp_path: Path, site: Site, fail_on: str, codes: tuple[int, int]
) -> None:
    _config(tmp_path, site)
    site.publish("a")
    runs = [CliRunner().invoke(main, ["scan", "--fail-on", fail_on]) for _ in range(2)]
    assert tuple(r.exit_code for r in runs) == codes, [r.output for r in runs]


def test_quiet_still_writes_the_report_to_its_file(tmp_path: Path, site: Site) -> None:
    _config(tmp_path, site)
    site.publish("a")
    out = tmp_path / "report.json"
    first = CliRunner().invoke(main, ["scan", "-f", "json", "-o", str(out)])
    assert first.exit_code == 1, first.output
    assert first.stdout.startswith("xpostcheck: 1 new violation")
    assert len(json.loads(out.read_text())["copies"]) == 1
    out.unlink()
    second = CliRunner().invoke(main, ["scan", "-f", "json", "-o", str(out)])
    assert (second.exit_code, second.stdout) == (0, "")
    assert len(json.loads(out.read_text())["copies"]) == 1


def test_without_quiet_the_table_is_printed(tmp_path: Path, site: Site) -> None:
    _config(tmp_path, site)
    (tmp_path / "xpostcheck.toml").write_text(
        (tmp_path / "xpostcheck.toml").read_text().replace("quiet = true", "quiet = false")
    )
    site.publish("a")
    result = CliRunner().invoke(main, ["scan"])
    assert result.exit_code == 1, result.output
    assert "VIOLATION" in result.stdout and "gr-link (new)" in result.stdout
    assert "new violation (scan #" not in result.stdout


@pytest.fixture()
def tls_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A private CA that the SMTP client trusts (through SSL_CERT_FILE, as a site would point
    it at its own CA bundle)."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_out_over_tls_with_a_login(
    tmp_path: Path, site: Site, tls_ca: trustme.CA, security: str
) -> None:
    box = Mailbox()
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        logins.append((auth.login.decode(), auth.password.decode()))
        ok = auth.password == b"s3cret"
        return AuthResult(success=ok, handled=ok)  # handled=False: the server answers 535

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    kwargs: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
    if security == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    else:
        # Implicit TLS wraps the socket below aiosmtpd, which cannot tell: let it offer AUTH.
        kwargs.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(box, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    try:
        _config(
            tmp_path,
            site,
            email_to=["editor@example.org"],
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security=security,
            smtp_user="xpost",
        )
        site.publish("a")
        wrong = _night({"XPOSTCHECK_SMTP_PASSWORD": "guess"})
        assert wrong.exit_code == 4, wrong.output
        assert "the SMTP server refused the login" in wrong.stderr
        assert box.messages == []
        right = _night({"XPOSTCHECK_SMTP_PASSWORD": "s3cret"})
        assert right.exit_code == 1, right.output
    finally:
        controller.stop()
    # smtplib tries each mechanism the server offers before it gives up on a password.
    assert set(logins) == {("xpost", "guess"), ("xpost", "s3cret")}
    assert logins[-1] == ("xpost", "s3cret")
    assert len(box.messages) == 1
    assert f"{site.server.base}/a" in box.messages[0][1].get_payload()
