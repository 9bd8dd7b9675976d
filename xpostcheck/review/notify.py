"""Notifications when a scan finds new violations: an e-mail through SMTP (smtplib) and a
webhook (a JSON body with a Slack-compatible `text` field, POSTed through the Fetcher, so the
address policy applies: the webhook's host is named by the user in the config).

In: Settings (where to send) and a Report. Out: the messages sent, or NotifyFailed (exit 4)
naming the channel that failed; the caller raises it out of the scan's delivery so that the
scan's findings stay new and the alert goes out again on the next run.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from xpostcheck import options
from xpostcheck.config import Settings
from xpostcheck.errors import FetchError, XPostCheckError
from xpostcheck.models import Copy, Report
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.net.policy import named_addresses

__all__ = ["NotifyFailed", "new_summary", "notify", "send_email", "send_webhook", "wants_notify"]

EXIT_NOTIFY_FAILED = 4
_MAX_LINES = 50  # copies listed in one message; the rest are counted


class NotifyFailed(XPostCheckError):
    """The scan ran, but a notification could not be delivered (exit 4); its findings stay
    new, so the next run sends the alert again."""

    exit_code = EXIT_NOTIFY_FAILED


def _new_rules(copy: Copy) -> list[str]:
    return [f.rule for f in copy.checks if f.counts_as_violation and f.new]


def new_summary(report: Report) -> str:
    """A short text of the report's new violations ("" when there is none): one heading line,
    then one line per copy with the rules it newly breaks."""
    copies = report.new_violations
    if not copies:
        return ""
    scan = f" (scan #{report.scan.scan_id})" if report.scan.scan_id is not None else ""
    n = len(copies)
    lines = [f"xpostcheck: {n} new violation{'s' if n != 1 else ''}{scan}"]
    for copy in copies[:_MAX_LINES]:
        lines.append(f"- {copy.url} (copy of {copy.source_url}): {', '.join(_new_rules(copy))}")
    if n > _MAX_LINES:
        lines.append(f"... and {n - _MAX_LINES} more (see the report)")
    return "\n".join(lines)


def wants_notify(settings: Settings) -> bool:
    return bool(settings.email_to or settings.webhook)


def send_email(settings: Settings, subject: str, body: str) -> None:
    """Send `body` to `settings.email_to` by the SMTP server in the settings (TLS, STARTTLS or
    plain, with a login when a user is set). NotifyFailed names the server and the reason."""
    host = settings.smtp_host or "localhost"
    security = settings.smtp_security
    port = settings.smtp_port or {"tls": 465, "starttls": 587}.get(security, 25)
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="xpostcheck")
    message.set_content(body + "\n")
    where = f"smtp://{host}:{port}"
    timeout = options.NOTIFY_TIMEOUT
    try:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise NotifyFailed(
            "the SMTP server refused the login; check smtp_user and XPOSTCHECK_SMTP_PASSWORD",
            where=where,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise NotifyFailed(f"could not send the e-mail: {reason}", where=where) from None


def send_webhook(settings: Settings, text: str) -> None:
    """POST {"text": text} as JSON to the webhook through a Fetcher whose address policy
    allows only the webhook's own address (when it is a private one, the user named it)."""
    url = settings.webhook or ""
    allowed = named_addresses([url]) | frozenset(settings.allow_private)
    fetcher = Fetcher(
        FetchConfig(
            contact=settings.contact, deadline=options.NOTIFY_TIMEOUT, allowed_hosts=allowed
        )
    )
    try:
        fetcher.post(url, json.dumps({"text": text}).encode("utf-8"))
    except FetchError as exc:
        raise NotifyFailed(f"could not deliver the webhook: {exc.reason}", where=url) from None
    finally:
        fetcher.close()


def notify(settings: Settings, report: Report) -> int:
    """Send the new violations of `report` to every channel set; nothing when none is new.
    Every channel is tried; NotifyFailed (naming each that failed) when any failed. Returns
    the number of messages sent."""
    text = new_summary(report)
    if not text or not wants_notify(settings):
        return 0
    failures: list[str] = []
    sent = 0
    n = len(report.new_violations)
    subject = f"xpostcheck: {n} new violation{'s' if n != 1 else ''}"
    channels: list[Callable[[], None]] = []
    if settings.email_to:
        channels.append(lambda: send_email(settings, subject, text))
    if settings.webhook:
        channels.append(lambda: send_webhook(settings, text))
    for send in channels:
        try:
            send()
            sent += 1
        except NotifyFailed as exc:
            failures.append(str(exc))
    if failures:
        raise NotifyFailed(
            "; ".join(failures) + " (the new violations stay new and are sent again next run)"
        )
    return sent
