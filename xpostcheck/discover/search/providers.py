"""Search providers: plugins that turn one query into result pages.

In: a query (a phrase), the provider's settings and the environment. Out: `SearchResult`s
(url, title, snippet), or `ProviderError` saying what went wrong and whether asking again can
help. A provider is a class in `PROVIDERS` (name -> class) with three members:
- `endpoint(settings, env)`: the base URL it will call (the address policy must allow it
  before the Fetcher exists); ConfigError naming the flag and variable when it is missing;
- `create(settings, env, polite)`: the provider, sending every request through
  `Politeness.api_get` (its host's slot, the Fetcher's address policy and User-Agent);
- `search(query)`: the results of one query.

Shipped: SearXNG (self-hosted; `GET /search?q=...&format=json`, `results[]` with url, title,
content) and the Brave Search API (`GET /res/v1/web/search?q=...` with the key in
`X-Subscription-Token`, `web.results[]` with url, title, description).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
from types import MappingProxyType
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode, urlsplit

from xpostcheck import options
from xpostcheck.errors import ConfigError, FetchError, XPostCheckError
from xpostcheck.models import SkipCode
from xpostcheck.net.fetch import HTTPStatusError
from xpostcheck.pages.polite import Politeness

__all__ = [
    "PROVIDERS",
    "Brave",
    "ProviderError",
    "ProviderSettings",
    "SearXNG",
    "SearchProvider",
    "SearchResult",
    "provider_class",
]

_TAGS = re.compile(r"<[^>]{0,200}>")
MAX_URL = 2000  # a longer result URL is dropped (the crawler's own limit)


@dataclass(frozen=True)
class SearchResult:
    """One result page a provider returned for a query."""

    url: str
    title: str = ""
    snippet: str = ""


@dataclass(frozen=True)
class ProviderSettings:
    """What the user gave on the command line (None: read the environment)."""

    url: str | None = None  # the provider's base URL
    key: str | None = None  # the API key, where the provider needs one
    results: int = options.SEARCH_RESULTS  # results asked for per query


class ProviderError(XPostCheckError):
    """One query failed. `kind`: "http", "rate-limited", "bad-response", "timeout",
    "network", "refused" or "engines". `fatal`: every further query would fail the same way
    (a refused key, a wrong URL, a quota spent), so the run stops."""

    exit_code = 3

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        where: str,
        fatal: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.reason = reason
        self.fatal = fatal
        self.retry_after = retry_after
        super().__init__(reason, where=where)


class SearchProvider(Protocol):
    """One configured provider."""

    name: ClassVar[str]

    def search(self, query: str) -> list[SearchResult]: ...


def _text(value: object) -> str:
    """A result field as plain text: tags (Brave marks matches with <strong>) and entities
    undone, spaces collapsed; '' for anything that is not a string."""
    if not isinstance(value, str):
        return ""
    return " ".join(unescape(_TAGS.sub("", value)).split())


def _base_url(value: str, where: str) -> str:
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{url!r} is not an http(s) URL; give the provider's base URL", where=where
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{url!r}: give the base URL, without a query", where=where)
    return url


def _failure(exc: FetchError, hint: Mapping[int, str]) -> ProviderError:
    """A failed request as a ProviderError: its kind, and whether the run must stop."""
    url = exc.url
    if isinstance(exc, HTTPStatusError):
        status = exc.status
        if status == 429:
            return ProviderError("rate-limited", exc.reason, where=url, retry_after=exc.retry_after)
        if status in (401, 403):
            reason = f"{exc.reason}: {hint[status]}" if status in hint else exc.reason
            return ProviderError("http", reason, where=url, fatal=True)
        if status in (404, 405, 410):
            reason = f"{exc.reason}: no search API at this URL; check the provider's base URL"
            return ProviderError("http", reason, where=url, fatal=True)
        return ProviderError("http", exc.reason, where=url)
    if exc.code is SkipCode.ADDRESS_POLICY:
        return ProviderError("refused", exc.reason, where=url, fatal=True)
    reason = exc.reason.lower()
    if "deadline" in reason or "timed out" in reason:
        return ProviderError("timeout", exc.reason, where=url)
    return ProviderError("network", exc.reason, where=url)


def _get_json(
    polite: Politeness, url: str, headers: Mapping[str, str], hint: Mapping[int, str]
) -> dict[str, Any]:
    """GET `url` through the politeness layer and parse its JSON object."""
    try:
        fetched = polite.api_get(url, headers)
    except FetchError as exc:
        raise _failure(exc, hint) from None
    try:
        data = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        start = fetched.text[:60].strip()
        raise ProviderError(
            "bad-response",
            f"the answer is not JSON ({exc.__class__.__name__}; it starts {start!r})",
            where=url,
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(
            "bad-response", f"expected a JSON object, got {type(data).__name__}", where=url
        )
    return data


def _results(items: object, url: str, snippet_field: str, what: str) -> list[SearchResult]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ProviderError("bad-response", f"{what} is not a list", where=url)
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url")
        if isinstance(link, str) and _usable_url(link):
            out.append(SearchResult(link, _text(item.get("title")), _text(item.get(snippet_field))))
    return out


def _usable_url(link: str) -> bool:
    """An http(s) URL with a host, a valid port and no spaces, of a sane length."""
    if len(link) > MAX_URL or not link.lower().startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or too large
    except ValueError:
        return False
    return bool(parts.hostname) and not any(c.isspace() for c in link)


def _setting(
    flag_value: str | None, env: Mapping[str, str], variable: str, default: str | None = None
) -> str | None:
    value = flag_value if flag_value else env.get(variable, "").strip()
    return value or default


class SearXNG:
    """A SearXNG instance's JSON API (the instance must list `json` in `search.formats`)."""

    name: ClassVar[str] = "searxng"
    url_variable: ClassVar[str] = "XPOSTCHECK_SEARXNG_URL"

    def __init__(self, base_url: str, polite: Politeness, *, results: int) -> None:
        self.base_url = base_url
        self.polite = polite
        self.results = results

    @classmethod
    def endpoint(cls, settings: ProviderSettings, env: Mapping[str, str]) -> str:
        url = _setting(settings.url, env, cls.url_variable)
        if not url:
            raise ConfigError(
                f"SearXNG needs its URL: set {cls.url_variable} (for example "
                "http://127.0.0.1:8888) or pass --search-url"
            )
        return _base_url(url, "--search-url" if settings.url else cls.url_variable)

    @classmethod
    def create(
        cls, settings: ProviderSettings, env: Mapping[str, str], polite: Politeness
    ) -> SearXNG:
        return cls(cls.endpoint(settings, env), polite, results=settings.results)

    def search(self, query: str) -> list[SearchResult]:
        url = f"{self.base_url}/search?" + urlencode({"q": query, "format": "json"})
        hint = {
            401: "the instance asks for a login, which xpostcheck cannot give; use an "
            "instance (or a path) without one",
            403: "is 'json' listed in search.formats of the instance's settings.yml?",
        }
        data = _get_json(self.polite, url, {"Accept": "application/json"}, hint)
        if "results" not in data:
            raise ProviderError("bad-response", "the answer has no 'results'", where=url)
        found = _results(data["results"], url, "content", "'results'")
        silent = data.get("unresponsive_engines")
        if not found and isinstance(silent, list) and silent:
            names = ", ".join(
                " ".join(str(part) for part in entry) if isinstance(entry, list) else str(entry)
                for entry in silent[:5]
            )
            raise ProviderError("engines", f"no engine answered ({names})", where=url)
        return found[: self.results]


class Brave:
    """The Brave Search API (web search)."""

    name: ClassVar[str] = "brave"
    key_variable: ClassVar[str] = "XPOSTCHECK_BRAVE_KEY"
    url_variable: ClassVar[str] = "XPOSTCHECK_BRAVE_URL"  # another base URL (tests, a proxy)
    default_url: ClassVar[str] = "https://api.search.brave.com"
    max_count: ClassVar[int] = 20  # the API's largest page of results

    def __init__(self, base_url: str, key: str, polite: Politeness, *, results: int) -> None:
        self.base_url = base_url
        self._key = key
        self.polite = polite
        self.results = results

    def __repr__(self) -> str:  # never show the key
        return f"Brave({self.base_url!r})"

    @classmethod
    def endpoint(cls, settings: ProviderSettings, env: Mapping[str, str]) -> str:
        url = _setting(settings.url, env, cls.url_variable, cls.default_url) or cls.default_url
        return _base_url(url, "--search-url" if settings.url else cls.url_variable)

    @classmethod
    def create(
        cls, settings: ProviderSettings, env: Mapping[str, str], polite: Politeness
    ) -> Brave:
        key = _setting(settings.key, env, cls.key_variable)
        if not key:
            raise ConfigError(
                f"the Brave Search API needs a key: set {cls.key_variable} (or pass --search-key)"
            )
        return cls(cls.endpoint(settings, env), key, polite, results=settings.results)

    def search(self, query: str) -> list[SearchResult]:
        count = max(1, min(self.results, self.max_count))
        url = f"{self.base_url}/res/v1/web/search?" + urlencode({"q": query, "count": count})
        headers = {"Accept": "application/json", "X-Subscription-Token": self._key}
        refused = f"the API refused the key; check {self.key_variable} or --search-key"
        hint = {401: refused, 403: refused}
        data = _get_json(self.polite, url, headers, hint)
        web = data.get("web")
        if web is None:
            return []  # no web results for this query
        if not isinstance(web, dict):
            raise ProviderError("bad-response", "'web' is not an object", where=url)
        return _results(web.get("results"), url, "description", "'web.results'")[: self.results]


class ProviderClass(Protocol):
    """What `PROVIDERS` holds: a provider class."""

    @property
    def name(self) -> str: ...

    def endpoint(self, settings: ProviderSettings, env: Mapping[str, str]) -> str: ...

    def create(
        self, settings: ProviderSettings, env: Mapping[str, str], polite: Politeness
    ) -> SearchProvider: ...


PROVIDERS: Mapping[str, ProviderClass] = MappingProxyType({"searxng": SearXNG, "brave": Brave})


def provider_class(name: str) -> ProviderClass:
    """The provider registered as `name`; ConfigError listing the known ones."""
    found = PROVIDERS.get(name.strip().lower())
    if found is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"unknown search provider {name!r}; choose one of: {known}")
    return found
