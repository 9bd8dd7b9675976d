"""Which referrers and clients are noise for discovery: search engines, social networks, webmail,
feed readers and bots, the publisher's own hosts, and private addresses.

In: a referrer's host, a User-Agent. Out: the reason to drop it ('' to keep it). The built-in
lists are data below; a user extends them with `--ignore-host`, `--ignore-agent` or a file of
`host NAME` / `agent TEXT` lines (`NoiseFilter.extended`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from xpostcheck.errors import ConfigError
from xpostcheck.net.policy import is_public, parse_ip

__all__ = [
    "REASONS",
    "NoiseFilter",
    "read_ignore_file",
]

# Why a request was dropped, in the order a summary lists them.
REASONS = (
    "no-referrer",
    "not-a-web-page",
    "own-host",
    "search",
    "social",
    "webmail",
    "feed-reader",
    "bot",
    "ignored",
    "private-address",
    "before-since",
    "no-time",
)

# A host takes the reason of the longest name it is or is under (mail.google.com is webmail,
# www.google.com search). A name ending in ".*" matches that name under any country or
# generic suffix (google.* is google.com, www.google.co.uk); any other name matches itself and
# its subdomains.
_HOSTS: dict[str, tuple[str, ...]] = {
    "search": (
        "google.*",
        "bing.com",
        "duckduckgo.com",
        "yahoo.*",
        "yandex.*",
        "ya.ru",
        "baidu.com",
        "ecosia.org",
        "qwant.com",
        "startpage.com",
        "search.brave.com",
        "naver.com",
        "seznam.cz",
        "ask.com",
        "aol.*",
        "sogou.com",
        "so.com",
        "mojeek.com",
        "kagi.com",
        "you.com",
        "perplexity.ai",
        "chatgpt.com",
        "search.yahoo.co.jp",
        "dogpile.com",
        "searx.be",
        "metager.de",
        "presearch.com",
        "lite.duckduckgo.com",
    ),
    "social": (
        "facebook.com",
        "fb.com",
        "fb.me",
        "messenger.com",
        "instagram.com",
        "threads.net",
        "twitter.com",
        "x.com",
        "t.co",
        "linkedin.com",
        "lnkd.in",
        "reddit.com",
        "redd.it",
        "pinterest.*",
        "pin.it",
        "tumblr.com",
        "tiktok.com",
        "youtube.com",
        "youtu.be",
        "whatsapp.com",
        "wa.me",
        "t.me",
        "telegram.org",
        "bsky.app",
        "mastodon.social",
        "mstdn.social",
        "news.ycombinator.com",
        "flipboard.com",
        "vk.com",
        "ok.ru",
        "weibo.com",
        "quora.com",
        "discord.com",
        "slack.com",
        "snapchat.com",
        "nextdoor.com",
    ),
    "webmail": (
        "mail.google.com",
        "outlook.live.com",
        "outlook.office.com",
        "outlook.office365.com",
        "mail.yahoo.com",
        "mail.aol.com",
        "mail.proton.me",
        "mail.protonmail.com",
        "mail.zoho.com",
        "mail.yandex.ru",
        "e.mail.ru",
        "gmx.net",
        "gmx.de",
        "web.de",
        "fastmail.com",
        "icloud.com",
        "mail.com",
        "tutanota.com",
    ),
    "feed-reader": (
        "feedly.com",
        "inoreader.com",
        "newsblur.com",
        "theoldreader.com",
        "feedbin.com",
        "bazqux.com",
        "netvibes.com",
        "feedspot.com",
        "news.google.*",
        "getpocket.com",
        "instapaper.com",
        "flipboard.app",
        "readwise.io",
        "newsnow.co.uk",
        "ground.news",
    ),
}

# User-Agent fragments (lower case) of crawlers, previews, scripts and feed readers.
_AGENTS: dict[str, tuple[str, ...]] = {
    "bot": (
        "bot",
        "crawl",
        "spider",
        "slurp",
        "archiver",
        "facebookexternalhit",
        "embedly",
        "preview",
        "headlesschrome",
        "phantomjs",
        "python-requests",
        "python-urllib",
        "aiohttp",
        "httpx",
        "go-http-client",
        "curl/",
        "wget/",
        "libwww-perl",
        "java/",
        "okhttp",
        "scrapy",
        "axios/",
        "node-fetch",
        "lighthouse",
        "pingdom",
        "uptime",
        "monitor",
        "validator",
        "ia_archiver",
        "httrack",
    ),
    "feed-reader": (
        "feedly",
        "inoreader",
        "newsblur",
        "feedbin",
        "theoldreader",
        "feedfetcher",
        "feedburner",
        "netnewswire",
        "tiny tiny rss",
        "miniflux",
        "freshrss",
        "feedparser",
        "rss",
        "feed reader",
        "podcast",
    ),
}

# Host names that start so are webmail whatever the provider (webmail.example.net).
_PREFIXES: dict[str, tuple[str, ...]] = {"webmail": ("webmail.", "roundcube.", "owa.")}

_SUFFIX_LABEL = re.compile(r"^[a-z]{2,3}$")


def _is_private_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    ip = parse_ip(host)
    return ip is not None and not is_public(ip)


@dataclass(frozen=True)
class NoiseFilter:
    """The lists a referrer and a client are judged by. `own_hosts` are the publisher's (each
    with its subdomains); `extra_hosts` and `extra_agents` are the user's additions; private,
    loopback and link-local referrers are dropped unless `allow_private`."""

    own_hosts: frozenset[str] = frozenset()
    extra_hosts: tuple[str, ...] = ()
    extra_agents: tuple[str, ...] = ()
    allow_private: bool = False
    hosts: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_HOSTS))
    agents: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_AGENTS))

    def extended(
        self,
        *,
        own_hosts: Iterable[str] = (),
        hosts: Iterable[str] = (),
        agents: Iterable[str] = (),
    ) -> NoiseFilter:
        """This filter with more of the publisher's hosts, ignored hosts and agent fragments."""
        return replace(
            self,
            own_hosts=self.own_hosts | {_host_entry(h) for h in own_hosts if h.strip()},
            extra_hosts=(*self.extra_hosts, *(_host_entry(h) for h in hosts if h.strip())),
            extra_agents=(*self.extra_agents, *(a.strip().lower() for a in agents if a.strip())),
        )

    @cached_property
    def _index(self) -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
        """(own hosts, plain names -> reason, `name.*` names -> reason), built once."""
        plain: dict[str, str] = {}
        wild: dict[str, str] = {}
        listed = [(r, e) for r, entries in self.hosts.items() for e in entries]
        for reason, entry in [*listed, *(("ignored", e) for e in self.extra_hosts)]:
            if entry.endswith(".*"):
                wild.setdefault(entry[:-2], reason)
            else:
                plain.setdefault(entry, reason)
        return frozenset(self.own_hosts), plain, wild

    def host_reason(self, host: str) -> str:
        """Why a referrer on `host` (lower case, no port) is noise, or ''. The publisher's own
        hosts come first; then the longest listed name the host is or is under (mail.google.com
        is webmail, www.google.com search); then `name.*` names, the longest first."""
        own, plain, wild = self._index
        labels = host.split(".")
        suffixes = [".".join(labels[i:]) for i in range(len(labels))]
        if any(suffix in own for suffix in suffixes):
            return "own-host"
        for suffix in suffixes:
            reason = plain.get(suffix)
            if reason:
                return reason
        for k in (1, 2):  # the country or generic suffix `*` stands for: 1 or 2 short labels
            if len(labels) > k and all(_SUFFIX_LABEL.match(label) for label in labels[-k:]):
                head = labels[:-k]
                for i in range(len(head)):
                    reason = wild.get(".".join(head[i:]))
                    if reason:
                        return reason
        for reason, prefixes in _PREFIXES.items():
            if host.startswith(prefixes):
                return reason
        if not self.allow_private and _is_private_host(host):
            return "private-address"
        return ""

    def agent_reason(self, agent: str) -> str:
        """Why a request from this User-Agent is noise ('bot', 'feed-reader', 'ignored'), or ''."""
        low = agent.lower()
        for reason, fragments in self.agents.items():
            if any(fragment in low for fragment in fragments):
                return reason
        if any(fragment in low for fragment in self.extra_agents):
            return "ignored"
        return ""


def _host_entry(text: str) -> str:
    entry = text.strip().lower().rstrip(".")
    if "://" in entry:
        entry = entry.split("://", 1)[1]
    entry = entry.split("/", 1)[0]
    if entry.startswith(("*.", "www.")):  # www.example.org: example.org and its subdomains
        entry = entry.split(".", 1)[1]
    if entry.startswith("[") and "]" in entry:
        return entry[1 : entry.index("]")]
    if entry.count(":") == 1:
        entry = entry.split(":", 1)[0]
    return entry


def read_ignore_file(path: str) -> tuple[list[str], list[str]]:
    """(hosts, agent fragments) from a file of `host NAME` and `agent TEXT` lines (a bare NAME
    is a host); blank lines and `#` comments ignored. ConfigError names the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise ConfigError("ignore file not found; check --ignore-file", where=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read ignore file: {exc}", where=path) from None
    hosts: list[str] = []
    agents: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, value = line.partition(" ")
        value = value.strip()
        if kind == "agent" and value:
            agents.append(value)
        elif kind == "host" and value:
            hosts.append(value)
        elif not value and " " not in line:
            hosts.append(line)
        else:
            raise ConfigError(
                f"{line!r}: write 'host NAME', 'agent TEXT' or a bare host name",
                where=f"{path}:{number}",
            )
    return hosts, agents
