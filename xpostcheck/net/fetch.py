"""One fetch, made safe against servers nobody here controls: the transport.

In: a URL, optional validators (ETag, Last-Modified) and a FetchConfig. Out: a Fetched response
(a 304 answer to a conditional request included), or FetchError carrying the URL, the reason
and a SkipCode. What a plain `requests.get` does not give, and this module adds:
- a wall-clock deadline per fetch (connect and read timeouts only bound each socket call, so a
  server dripping one byte a second would otherwise hold a thread forever). A watchdog timer
  (guard.py) shuts the socket down when the deadline passes, whatever phase the exchange is in;
- redirects followed by hand (at most `max_redirects`, loops detected), each hop under the
  address policy (policy.py), checked on the resolved addresses and again on the address the
  socket really connected to (guard.py);
- bounded retries on 429 and 5xx, honouring Retry-After up to a cap;
- bodies streamed here and decoded by decode.py (size cap after decompression, content-type
  filter, binary-body check, charset); conditional request headers from cache.py.

`Fetcher` is thread-safe: each thread gets its own `requests.Session` (keep-alive per thread).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from xpostcheck import PROJECT_URL, __version__, options
from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, SkipCode
from xpostcheck.net.cache import conditional_headers
from xpostcheck.net.decode import (
    Decoder,
    decode_body,
    refuse_non_html_body,
    refuse_non_html_type,
)
from xpostcheck.net.guard import Blocked, Guard, GuardedAdapter, Watch
from xpostcheck.net.headers import Headers, header, is_digits, parse_retry_after
from xpostcheck.net.policy import AddressPolicy

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = f"xpostcheck/{__version__} (+{PROJECT_URL})"
    contact: str | None = None  # appended to the User-Agent, e.g. an e-mail address
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # wall clock per fetch (all hops and retries), against drip-feeding
    deadline: float = options.TIMEOUT
    max_bytes: int = 10_000_000  # after decompression
    max_redirects: int = 5
    retries: int = 2  # on 429/5xx, honouring Retry-After (capped)
    # Only these may be non-public addresses: "HOST" (every port), "HOST:PORT" or
    # "[ADDRESS]:PORT" (see policy.py; a name is allowed as a name, not for its addresses)
    allowed_hosts: frozenset[str] = frozenset()
    max_retry_after: float = 30.0  # a longer Retry-After is not waited for: the fetch fails
    backoff: float = 1.0  # first wait before a retry without Retry-After; doubles each time
    use_env_proxies: bool = False  # honour HTTP(S)_PROXY; the address check then sees the proxy

    @property
    def agent(self) -> str:
        """The User-Agent header, with the contact when one is set."""
        if not self.contact:
            return self.user_agent
        if self.user_agent.endswith(")"):
            return f"{self.user_agent[:-1]}; {self.contact})"
        return f"{self.user_agent} ({self.contact})"


class HTTPStatusError(FetchError):
    """The server answered with an error status (after any retries)."""

    def __init__(self, url: str, reason: str, status: int, retry_after: float | None = None):
        self.status = status
        self.retry_after = retry_after
        code = SkipCode.GONE if status in (404, 410) else SkipCode.HTTP_ERROR
        super().__init__(url, reason, code)


@dataclass
class _Exchange:
    status: int
    reason: str
    headers: Headers
    raw_block: bytes
    body: bytes
    location: str | None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Fetcher:
    """Fetches single URLs safely. Thread-safe: one requests.Session per thread."""

    def __init__(self, config: FetchConfig | None = None) -> None:
        self.config = config or FetchConfig()
        self.policy = AddressPolicy(self.config.allowed_hosts)
        self._guard = Guard(self.policy)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # -- sessions ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = _new_session(self.config, self._guard)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's session; waits in progress (retries) end at once."""
        self._closed.set()
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    # -- one exchange -----------------------------------------------------------------------

    def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        deadline_at: float,
        *,
        want_body: bool,
        html_only: bool,
    ) -> _Exchange:
        _check_url(self.policy, url)
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise FetchError(
                url, f"deadline of {self.config.deadline:g} s exceeded", SkipCode.UNREACHABLE
            )
        watch = Watch()
        timer = threading.Timer(remaining, watch.expire)
        timer.daemon = True
        self._guard.local.watch = watch
        timer.start()
        resp: requests.Response | None = None
        try:
            resp = self._session().get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
            items = tuple((str(k), str(v)) for k, v in resp.raw.headers.items())
            block = _headers_block(resp, items)
            location = header(items, "Location")
            status = resp.status_code
            body = b""
            if want_body and 200 <= status < 300:
                body = self._read_body(url, resp, items, html_only)
            return _Exchange(status, resp.reason or "", items, block, body, location)
        except Blocked as exc:
            raise FetchError(url, str(exc), SkipCode.ADDRESS_POLICY) from exc
        except FetchError:
            raise
        except Exception as exc:  # requests, urllib3, socket and http.client errors alike
            if watch.expired:
                raise FetchError(
                    url,
                    f"deadline of {self.config.deadline:g} s exceeded (server too slow)",
                    SkipCode.UNREACHABLE,
                ) from exc
            raise FetchError(url, *_describe(exc)) from exc
        finally:
            watch.finish()
            timer.cancel()
            self._guard.local.watch = None
            if resp is not None:
                resp.close()

    def _read_body(
        self, url: str, resp: requests.Response, items: Headers, html_only: bool
    ) -> bytes:
        content_type = header(items, "Content-Type")
        if html_only:
            refuse_non_html_type(url, content_type)
        encoding = header(items, "Content-Encoding") or ""
        decoder = Decoder(encoding, self.config.max_bytes, url)
        length = header(items, "Content-Length")
        if (
            not decoder.kind
            and length
            and is_digits(length)
            and int(length) > self.config.max_bytes
        ):
            raise FetchError(
                url, f"body larger than {self.config.max_bytes} bytes", SkipCode.TOO_LARGE
            )
        parts: list[bytes] = []
        stream: Iterator[bytes] = resp.raw.stream(_CHUNK, decode_content=False)
        for chunk in stream:
            parts.append(decoder.feed(chunk))
        body = b"".join(parts)
        if html_only:
            refuse_non_html_body(url, content_type, body)
        return body

    # -- public -----------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        html_only: bool = True,
        check_redirect: Callable[[str], str | None] | None = None,
    ) -> Fetched:
        """Fetch `url`, following redirects by hand. Raises FetchError for anything that is not a
        usable page; a conditional request answered 304 gives Fetched(status=304, body=b"").

        `check_redirect(target)` may refuse a redirect target by returning a reason (the crawler
        uses it for robots.txt)."""
        return self._fetch(url, etag, last_modified, html_only, check_redirect, None)

    def fetch_api(self, url: str, headers: Mapping[str, str]) -> Fetched:
        """GET an API's `url` (any content type) with its own `headers` (a key, an Accept), as
        `fetch` does otherwise: address policy, deadline, retries on 429/5xx with Retry-After.
        The headers go with the hops on the URL's own scheme, host and port only, never to a
        redirect elsewhere; the User-Agent stays the fetcher's own."""
        return self._fetch(url, None, None, False, None, headers)

    def _fetch(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        html_only: bool,
        check_redirect: Callable[[str], str | None] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> Fetched:
        cfg = self.config
        deadline_at = time.monotonic() + cfg.deadline
        headers = {
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5" if html_only else "*/*"
        }
        conditional = bool(etag or last_modified)
        headers.update(conditional_headers(etag, last_modified))
        own = dict(headers)
        if extra_headers:
            own.update((k, v) for k, v in extra_headers.items() if k.lower() != "user-agent")
        origin = _origin(url)
        redirects: list[str] = []
        seen = {url}
        current = url
        while True:
            hop_headers = own if _origin(current) == origin else headers
            ex = self._with_retries(current, hop_headers, deadline_at, html_only)
            if ex.status in (301, 302, 303, 307, 308):
                if not ex.location:
                    raise FetchError(url, f"HTTP {ex.status} redirect without a Location")
                target = urljoin(current, ex.location.strip())
                redirects.append(current)
                if target in seen:
                    raise FetchError(
                        url, f"redirect loop ({len(redirects)} hops, back to {target})"
                    )
                if len(redirects) > cfg.max_redirects:
                    raise FetchError(url, f"more than {cfg.max_redirects} redirects")
                refusal = check_redirect(target) if check_redirect else None
                if refusal:
                    raise FetchError(
                        url, f"redirects to {target}, {refusal}", SkipCode.ADDRESS_POLICY
                    )
                seen.add(target)
                current = target
                continue
            break
        if ex.status == 304:
            if not conditional:
                raise FetchError(url, "HTTP 304 to a request that was not conditional")
            return Fetched(
                url=url,
                final_url=current,
                status=304,
                headers=ex.headers,
                body=b"",
                text="",
                encoding="",
                fetched_at=_now_iso(),
                redirects=tuple(redirects),
                raw_headers_block=ex.raw_block,
            )
        if ex.status == 204 or not 200 <= ex.status < 300:
            raise HTTPStatusError(url, _status_reason(ex), ex.status)
        text, encoding = decode_body(ex.body, header(ex.headers, "Content-Type"))
        return Fetched(
            url=url,
            final_url=current,
            status=ex.status,
            headers=ex.headers,
            body=ex.body,
            text=text,
            encoding=encoding,
            fetched_at=_now_iso(),
            redirects=tuple(redirects),
            content_hash=hashlib.sha256(ex.body).hexdigest(),
            raw_headers_block=ex.raw_block,
        )

    def post(self, url: str, body: bytes, content_type: str = "application/json") -> int:
        """POST `body` to `url` (a webhook) through the address policy and the guard, within
        the deadline; no redirect followed, no retry. The 2xx status, or FetchError."""
        _check_url(self.policy, url)
        watch = Watch()
        timer = threading.Timer(self.config.deadline, watch.expire)
        timer.daemon = True
        self._guard.local.watch = watch
        timer.start()
        try:
            resp = self._session().post(
                url,
                data=body,
                headers={"Content-Type": content_type},
                allow_redirects=False,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
            resp.close()
        except Blocked as exc:
            raise FetchError(url, str(exc), SkipCode.ADDRESS_POLICY) from exc
        except Exception as exc:  # requests, urllib3, socket and http.client errors alike
            if watch.expired:
                raise FetchError(url, "deadline exceeded", SkipCode.UNREACHABLE) from exc
            raise FetchError(url, *_describe(exc)) from exc
        finally:
            watch.finish()
            timer.cancel()
            self._guard.local.watch = None
        if not 200 <= resp.status_code < 300:
            raise HTTPStatusError(url, f"HTTP {resp.status_code}", resp.status_code)
        return resp.status_code

    def _with_retries(
        self, url: str, headers: dict[str, str], deadline_at: float, html_only: bool
    ) -> _Exchange:
        cfg = self.config
        attempt = 0
        while True:
            ex = self._exchange(url, headers, deadline_at, want_body=True, html_only=html_only)
            if ex.status not in RETRY_STATUSES:
                return ex
            retry_after = parse_retry_after(header(ex.headers, "Retry-After"))
            attempt += 1
            if attempt > cfg.retries:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise HTTPStatusError(url, _status_reason(ex) + tries, ex.status, retry_after)
            wait = retry_after if retry_after is not None else cfg.backoff * 2 ** (attempt - 1)
            if wait > cfg.max_retry_after:
                raise HTTPStatusError(
                    url,
                    f"{_status_reason(ex)}; Retry-After {wait:.0f} s is longer than the "
                    f"{cfg.max_retry_after:g} s cap, try again later",
                    ex.status,
                    retry_after,
                )
            if time.monotonic() + wait >= deadline_at:
                raise HTTPStatusError(
                    url,
                    f"{_status_reason(ex)}; retrying after {wait:g} s would pass the "
                    f"{cfg.deadline:g} s deadline",
                    ex.status,
                    retry_after,
                )
            if self._closed.wait(wait):
                raise FetchError(url, "fetcher closed")

    def resolve_redirect(self, url: str) -> str | None:
        """One request without following: the absolute Location of a 3xx answer, else None
        (also None when the URL cannot be requested at all)."""
        deadline_at = time.monotonic() + self.config.deadline
        try:
            ex = self._exchange(
                url, {"Accept": "*/*"}, deadline_at, want_body=False, html_only=False
            )
        except FetchError:
            return None
        if 300 <= ex.status < 400 and ex.location:
            return urljoin(url, ex.location.strip())
        return None


@contextmanager
def stream_body(fetcher: Fetcher, url: str) -> Iterator[BodyStream]:
    """GET `url` with `fetcher` (its sessions, address policy and User-Agent) and give its
    body as a stream to read at the caller's pace (a WARC file of gigabytes is never held
    whole): redirects followed by hand, each hop through the address policy; the read timeout
    bounds each read, no deadline bounds the whole body; the bytes are as sent (no
    Content-Encoding undone). Raises FetchError."""
    current, seen = url, {url}
    for _ in range(fetcher.config.max_redirects + 1):
        _check_url(fetcher.policy, current)
        try:
            resp = fetcher._session().get(
                current,
                headers={"Accept": "*/*"},
                stream=True,
                allow_redirects=False,
                timeout=(fetcher.config.connect_timeout, fetcher.config.read_timeout),
            )
        except Blocked as exc:
            raise FetchError(url, str(exc), SkipCode.ADDRESS_POLICY) from exc
        except Exception as exc:  # requests, urllib3, socket and http.client errors alike
            raise FetchError(url, *_describe(exc)) from exc
        try:
            location = resp.headers.get("Location")
            if resp.status_code in (301, 302, 303, 307, 308) and location:
                current = urljoin(current, location.strip())
                if current in seen:
                    raise FetchError(url, f"redirect loop (back to {current})")
                seen.add(current)
                continue
            if not 200 <= resp.status_code < 300:
                reason = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
                raise HTTPStatusError(url, reason, resp.status_code)
            yield BodyStream(url, resp.raw)
            return
        finally:
            resp.close()
    raise FetchError(url, f"more than {fetcher.config.max_redirects} redirects")


class BodyStream:
    """A response body read as a binary stream; a failure while reading is an OSError that
    names the URL."""

    def __init__(self, url: str, raw: urllib3.response.BaseHTTPResponse) -> None:
        self.url = url
        self.raw = raw

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self.raw.read(None if n < 0 else n, decode_content=False)
        except Exception as exc:  # a reset, a read timeout, a short body
            raise OSError(f"the download of {self.url} broke off: {_describe(exc)[0]}") from exc
        return data


def _new_session(config: FetchConfig, guard: Guard) -> requests.Session:
    """A session whose connections go through the guard, with the agent and encodings set."""
    session = requests.Session()
    session.trust_env = config.use_env_proxies
    # Without trust_env, requests ignores the CA bundle variables too; keep those.
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    adapter = GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = config.agent
    session.headers["Accept-Encoding"] = "gzip, deflate, br"
    return session


def _check_url(policy: AddressPolicy, url: str) -> None:
    """Raise FetchError for a URL that may not be requested: not http(s), no host, or a host
    the address policy refuses."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"invalid URL ({exc})", SkipCode.LIMIT) from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError(
            url,
            f"unsupported URL scheme {parts.scheme!r} (only http and https)",
            SkipCode.LIMIT,
        )
    host = parts.hostname or ""
    if not host:
        raise FetchError(url, "URL has no host", SkipCode.LIMIT)
    problem = policy.check_host(host, port or (443 if parts.scheme == "https" else 80))
    if problem:
        raise FetchError(url, problem, SkipCode.ADDRESS_POLICY)


def _origin(url: str) -> tuple[str, str]:
    """(scheme, network location) in lower case: where a request's own headers may go."""
    try:
        parts = urlsplit(url)
    except ValueError:  # _check_url refuses it with its reason
        return "", url
    return parts.scheme.lower(), parts.netloc.lower()


def _headers_block(resp: requests.Response, items: Headers) -> bytes:
    """The status line and headers as the server sent them, for the evidence archive."""
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(resp.raw.version, "HTTP/1.1")
    block = f"{version} {resp.status_code} {resp.reason or ''}\r\n".encode("latin-1", "replace")
    block += b"".join(f"{k}: {v}\r\n".encode("latin-1", "replace") for k, v in items)
    return block + b"\r\n"


def _status_reason(ex: _Exchange) -> str:
    return f"HTTP {ex.status}" + (f" {ex.reason}" if ex.reason else "")


def _describe(exc: BaseException) -> tuple[str, SkipCode]:
    """A short, readable reason for a network error, and its code."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out", SkipCode.UNREACHABLE
    if isinstance(exc, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
        return "read timed out", SkipCode.UNREACHABLE
    if isinstance(exc, requests.exceptions.SSLError):
        detail = re.search(r"certificate verify failed: ([^'\")(]+)", text)
        if detail:
            reason = f"TLS error: certificate verify failed ({detail.group(1).strip()})"
            return reason, SkipCode.UNREACHABLE
        return _tls_reason(text), SkipCode.UNREACHABLE
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            return "connection refused", SkipCode.REFUSED
        unknown = re.search(r"Failed to resolve '([^']+)'", text)
        if unknown or "NameResolutionError" in text:
            name = f" {unknown.group(1)!r}" if unknown else ""
            return f"connection failed: cannot resolve the host name{name}", SkipCode.UNREACHABLE
        return "connection failed: " + text[:200], SkipCode.UNREACHABLE
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "too many redirects", SkipCode.OTHER
    return f"{type(exc).__name__}: {text[:200]}", SkipCode.OTHER


# OpenSSL's words when the other end answered a TLS handshake with something else (plain HTTP).
_NOT_TLS = ("WRONG_VERSION_NUMBER", "record layer failure", "UNKNOWN_PROTOCOL", "http request")


def _tls_reason(text: str) -> str:
    """A failed TLS handshake in words, without urllib3's pool and retry internals."""
    if any(marker.lower() in text.lower() for marker in _NOT_TLS):
        return "TLS handshake failed: the server may not speak HTTPS on this port"
    detail = re.search(r"\[SSL: [A-Z_]+\] ([^(')\"]+)", text)
    what = detail.group(1).strip() if detail else "the server closed the connection"
    return f"TLS handshake failed: {what}"
