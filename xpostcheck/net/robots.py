"""robots.txt: fetched once per host per crawl, parsed with Protego, matched on `xpostcheck`.

The fetch status decides the policy, as RFC 9309 (section 2.3.1) says:
- 2xx: the rules in the file apply;
- 4xx (401 and 403 included): no rules, everything is allowed;
- 5xx, 429 or an unreachable host: everything is disallowed, and the crawler tries again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from xpostcheck.errors import FetchError
from xpostcheck.models import SkipCode
from xpostcheck.net.fetch import Fetcher, HTTPStatusError

PRODUCT_TOKEN = "xpostcheck"
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB

RobotsState = Literal["rules", "allow_all", "unavailable"]


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


@dataclass(frozen=True)
class RobotsPolicy:
    """What one host's robots.txt allows."""

    state: RobotsState
    note: str = ""  # why, in words, for Skipped reasons ("robots.txt answered HTTP 404", ...)
    crawl_delay: float | None = None
    sitemaps: tuple[str, ...] = ()
    parser: Any = field(default=None, compare=False, repr=False)  # Protego, when state == rules
    failure: SkipCode | None = None  # when unavailable: the fetch failure's code

    def allowed(self, url: str) -> bool:
        if self.state == "allow_all":
            return True
        if self.state == "unavailable":
            return False
        return bool(self.parser.can_fetch(url, PRODUCT_TOKEN))

    @classmethod
    def parse(cls, text: str) -> RobotsPolicy:
        parser = Protego.parse(text)
        delay = parser.crawl_delay(PRODUCT_TOKEN)
        return cls(
            "rules",
            "robots.txt rules",
            float(delay) if delay is not None else None,
            tuple(str(s) for s in parser.sitemaps),
            parser,
        )


def fetch_robots(fetcher: Fetcher, url: str) -> RobotsPolicy:
    """Fetch and parse the robots.txt of `url`'s host; never raises for network trouble."""
    target = robots_url(url)
    try:
        got = fetcher.fetch(target, html_only=False)
    except HTTPStatusError as exc:
        if 400 <= exc.status < 500 and exc.status != 429:
            return RobotsPolicy("allow_all", f"robots.txt answered HTTP {exc.status}")
        return RobotsPolicy(
            "unavailable", f"robots.txt unavailable ({exc.reason})", failure=SkipCode.UNREACHABLE
        )
    except FetchError as exc:
        # Refused, or kept out by the address policy, says more than "unreachable".
        kept = (SkipCode.REFUSED, SkipCode.ADDRESS_POLICY)
        code = exc.code if exc.code in kept else SkipCode.UNREACHABLE
        # A network failure (refused, TLS, timeout) is the host's, not robots.txt's: say only it.
        network = code is not SkipCode.ADDRESS_POLICY
        note = exc.reason if network else f"robots.txt unavailable ({exc.reason})"
        return RobotsPolicy("unavailable", note, failure=code)
    body = got.body[:MAX_ROBOTS_BYTES]
    return RobotsPolicy.parse(body.decode("utf-8", errors="replace"))
