"""One fetch, made safe against servers nobody here controls.

What a plain `requests.get` does not give, and this module adds:
- a wall-clock deadline per fetch (connect and read timeouts only bound each socket call, so a
  server dripping one byte a second would otherwise hold a thread forever). A watchdog timer
  shuts the socket down when the deadline passes, whatever phase the exchange is in;
- bodies streamed and decompressed here, chunk by chunk, with the size cap applied to the
  decompressed bytes (gzip and brotli bombs stop at the cap, never in memory);
- redirects followed by hand (at most `max_redirects`, loops detected), each hop under the
  address policy (netpolicy.py), checked on the resolved addresses and again on the address the
  socket really connected to;
- bounded retries on 429 and 5xx, honouring Retry-After up to a cap;
- a content-type filter and a binary-body check;
- the encoding taken from the headers, then the BOM and meta tags, then sniffing.

`Fetcher` is thread-safe: each thread gets its own `requests.Session` (keep-alive per thread).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli
import charset_normalizer
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from xpostcheck import PROJECT_URL, __version__, options
from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, SkipCode
from xpostcheck.net.policy import AddressPolicy

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CHUNK = 64 * 1024
_SNIFF = 64 * 1024


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
    allowed_hosts: frozenset[str] = frozenset()  # only these may resolve to non-public addresses
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


class _Blocked(Exception):
    """Raised inside a connection when the connected address breaks the address policy."""


# --- deadline watchdog -------------------------------------------------------------------------


class _Watch:
    """Shuts down the socket of one exchange when its deadline passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.expired = False
        self.done = False

    def attach(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            if self.expired and not self.done:
                _shutdown(sock)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            if self.sock is not None:
                _shutdown(self.sock)

    def finish(self) -> None:
        with self.lock:
            self.done = True


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Guard:
    """What a Fetcher's connections need: the address policy and the thread's current watch."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.local = threading.local()

    def watch(self) -> _Watch | None:
        return getattr(self.local, "watch", None)


def _guarded_pools(guard: _Guard) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pool classes whose connections check the peer address and report their socket
    to the current watch."""

    def check(conn: Any, sock: socket.socket) -> None:
        try:
            peer = str(sock.getpeername()[0])
        except OSError:
            peer = ""
        host = str(conn.host)
        if not guard.policy.ip_allowed(host, peer):
            sock.close()
            raise _Blocked(
                f"refused: {host} connected to non-public address {peer or '?'} "
                "and was not named by the user"
            )

    class Conn(urllib3.connection.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check(self, sock)
            return sock

        def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
            watch = guard.watch()
            if watch is not None and self.sock is not None:
                watch.attach(self.sock)
            return super().getresponse()

    class SConn(urllib3.connection.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check(self, sock)
            return sock

        def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
            watch = guard.watch()
            if watch is not None and self.sock is not None:
                watch.attach(self.sock)
            return super().getresponse()

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class SPool(HTTPSConnectionPool):
        ConnectionCls = SConn

    return {"http": Pool, "https": SPool}


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard
        super().__init__(pool_connections=16, pool_maxsize=4, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pools(self._guard)


# --- bodies ------------------------------------------------------------------------------------


class _Decoder:
    """Content-Encoding decoding with a cap on the decoded size."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.url = url
        self.limit = limit
        self.total = 0
        enc = ",".join(p.strip() for p in encoding.lower().split(",") if p.strip())
        self.kind = enc
        self.zlib: Any = None
        self.brotli: Any = None
        if enc in ("", "identity"):
            self.kind = ""
        elif enc in ("gzip", "x-gzip", "deflate"):
            self.zlib = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
            self.first = True
        elif enc == "br":
            self.brotli = brotli.Decompressor()
        else:
            raise FetchError(url, f"unsupported content encoding {encoding!r}", SkipCode.NOT_HTML)

    def _room(self) -> int:
        return self.limit - self.total + 1

    def _count(self, out: bytes) -> bytes:
        self.total += len(out)
        if self.total > self.limit:
            raise FetchError(
                self.url,
                f"body larger than {self.limit} bytes once decompressed",
                SkipCode.TOO_LARGE,
            )
        return out

    def feed(self, chunk: bytes) -> bytes:
        if not self.kind:
            return self._count(chunk)
        try:
            if self.zlib is not None:
                return self._feed_zlib(chunk)
            return self._feed_brotli(chunk)
        except (zlib.error, brotli.error) as exc:
            raise FetchError(self.url, f"broken {self.kind} body (cannot decompress it)") from exc

    def _feed_zlib(self, chunk: bytes) -> bytes:
        if self.first and self.kind == "deflate":
            self.first = False
            try:
                probe = zlib.decompressobj(wbits=47)
                probe.decompress(chunk[:2048], 1)
            except zlib.error:  # raw deflate without the zlib header, as some servers send
                self.zlib = zlib.decompressobj(wbits=-15)
        self.first = False
        parts = [self._count(self.zlib.decompress(chunk, self._room()))]
        while True:
            if self.zlib.unconsumed_tail:
                data = self.zlib.unconsumed_tail
            elif self.zlib.eof and self.zlib.unused_data[:2] == b"\x1f\x8b":
                data = self.zlib.unused_data  # the next member of a multi-member gzip body
                self.zlib = zlib.decompressobj(wbits=31)
            else:
                break
            parts.append(self._count(self.zlib.decompress(data, self._room())))
        return b"".join(parts)

    def _feed_brotli(self, chunk: bytes) -> bytes:
        parts = [self._count(self.brotli.process(chunk, output_buffer_limit=self._room()))]
        while not self.brotli.can_accept_more_data():
            parts.append(self._count(self.brotli.process(b"", output_buffer_limit=self._room())))
        return b"".join(parts)


# --- encodings ---------------------------------------------------------------------------------

_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What browsers do (WHATWG Encoding): these labels mean windows-1252.
_AS_1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})


def _codec(label: str | None) -> str | None:
    """A Python codec name for an encoding label, or None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    if name in _AS_1252:
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return None  # a page cannot declare itself UTF-16 in ASCII-compatible bytes; sniff
    return name


def charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The encoding of an HTML body: BOM, then the Content-Type header, then <meta>, then a
    sniff (UTF-8 when the bytes are valid UTF-8, else charset_normalizer)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = _codec(charset_of(content_type))
    if declared:
        return declared
    match = _CHARSET_RE.search(body[:4096])
    if match:
        meta = _codec((match.group(1) or match.group(2)).decode("ascii", "replace"))
        if meta:
            return meta
    sample = body[:_SNIFF]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(body) > _SNIFF:
            return "utf-8"  # only a character cut at the sample's end
    if sum(b > 0x7F for b in sample) < 8:
        return "cp1252"  # too few non-ASCII bytes to sniff: the web's default (WHATWG)
    best = charset_normalizer.from_bytes(sample).best()
    return _codec(best.encoding if best else None) or "cp1252"


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    encoding = detect_encoding(body, content_type)
    text = body.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def _is_html_type(content_type: str | None) -> bool:
    main = (content_type or "").split(";", 1)[0].strip().lower()
    return main in HTML_TYPES


def _sniff_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        b"<html" in head or b"<body" in head
    )


def _looks_binary(body: bytes) -> bool:
    head = body[:1024]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


# --- the fetcher -------------------------------------------------------------------------------


@dataclass
class _Exchange:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    raw_block: bytes
    body: bytes
    location: str | None


def _is_digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and other digits int() refuses."""
    return value.isascii() and value.isdigit()


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    low = name.lower()
    for key, value in headers:
        if key.lower() == low:
            return value
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _is_digits(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


# --- freshness (RFC 9111 section 4.2, as a private client that stores no Age or Date) --------

_DIRECTIVE = re.compile(r'\s*([^\s=,"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')
_MAX_DELTA = 2**31  # RFC 9111 1.2.2: a larger delta-seconds counts as this


def _http_date(value: str | None) -> datetime | None:
    """An HTTP date (any of the three RFC 9110 forms) as an aware datetime, or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python 3.10 may return None instead of raising
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def cache_directives(value: str | None) -> dict[str, list[str | None]]:
    """Cache-Control directives, names lowercased, each with its values in order (None for a
    bare directive, quotes removed from a quoted one). Commas inside quotes do not split."""
    found: dict[str, list[str | None]] = {}
    for m in _DIRECTIVE.finditer(value or ""):
        name, arg = m.group(1).lower(), m.group(2)
        if arg is not None:
            arg = arg.strip()
            if len(arg) >= 2 and arg[0] == arg[-1] == '"':
                arg = re.sub(r"\\(.)", r"\1", arg[1:-1])
        found.setdefault(name, []).append(arg)
    return found


def freshness_lifetime(
    cache_control: str | None,
    expires: str | None,
    last_modified: str | None,
    fetched_at: datetime,
) -> float:
    """Seconds a response fetched at `fetched_at` stays fresh, by its own headers:
    - Cache-Control no-store, no-cache or max-age=0: 0;
    - else max-age (s-maxage is for shared caches; this is a private client). A max-age that is
      not a number, or two different max-ages, make the response stale (0);
    - else Expires minus the fetch time (an invalid Expires, "0" included, is in the past: 0);
    - else the heuristic: 10% of the time between Last-Modified and the fetch;
    - else 0.
    Never negative."""
    directives = cache_directives(cache_control)
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        values = set(directives["max-age"])
        value = values.pop() if len(values) == 1 else None
        if value is None or not _is_digits(value):
            return 0.0
        return float(min(int(value), _MAX_DELTA))
    if expires is not None:
        when = _http_date(expires)
        if when is None:
            return 0.0
        return max(0.0, (when - fetched_at).total_seconds())
    modified = _http_date(last_modified)
    if modified is None:
        return 0.0
    return max(0.0, (fetched_at - modified).total_seconds() / 10)


def is_fresh(
    *,
    fetched_at: str | None,
    cache_control: str | None,
    expires: str | None,
    last_modified: str | None,
    now: datetime,
    cap: float,
) -> bool:
    """Whether a response fetched at `fetched_at` (ISO 8601) is still fresh at `now`: its age is
    under its freshness lifetime, capped at `cap` seconds. An unreadable fetch time, or one in
    the future (a clock that went back), is never fresh."""
    if cap <= 0 or not fetched_at:
        return False
    try:
        when = datetime.fromisoformat(fetched_at.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = (now - when).total_seconds()
    if age < 0:
        return False
    lifetime = min(cap, freshness_lifetime(cache_control, expires, last_modified, when))
    return age < lifetime


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Fetcher:
    """Fetches single URLs safely. Thread-safe: one requests.Session per thread."""

    def __init__(self, config: FetchConfig | None = None) -> None:
        self.config = config or FetchConfig()
        self.policy = AddressPolicy(
            frozenset(h.lower().rstrip(".").strip("[]") for h in self.config.allowed_hosts)
        )
        self._guard = _Guard(self.policy)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # -- sessions ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = self.config.use_env_proxies
            # Without trust_env, requests ignores the CA bundle variables too; keep those.
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
            adapter = _GuardedAdapter(self._guard)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = self.config.agent
            session.headers["Accept-Encoding"] = "gzip, deflate, br"
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

    def _check_url(self, url: str) -> None:
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
        problem = self.policy.check_host(host, port or (443 if parts.scheme == "https" else 80))
        if problem:
            raise FetchError(url, problem, SkipCode.ADDRESS_POLICY)

    def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        deadline_at: float,
        *,
        want_body: bool,
        html_only: bool,
    ) -> _Exchange:
        self._check_url(url)
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise FetchError(
                url, f"deadline of {self.config.deadline:g} s exceeded", SkipCode.UNREACHABLE
            )
        watch = _Watch()
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
            raw = resp.raw
            items = tuple((str(k), str(v)) for k, v in raw.headers.items())
            version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(raw.version, "HTTP/1.1")
            block = f"{version} {resp.status_code} {resp.reason or ''}\r\n".encode(
                "latin-1", "replace"
            )
            block += b"".join(f"{k}: {v}\r\n".encode("latin-1", "replace") for k, v in items)
            block += b"\r\n"
            location = _header(items, "Location")
            status = resp.status_code
            body = b""
            if want_body and 200 <= status < 300:
                body = self._read_body(url, resp, items, html_only)
            return _Exchange(status, resp.reason or "", items, block, body, location)
        except _Blocked as exc:
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
        self, url: str, resp: requests.Response, items: tuple[tuple[str, str], ...], html_only: bool
    ) -> bytes:
        content_type = _header(items, "Content-Type")
        if html_only and content_type and not _is_html_type(content_type):
            main = content_type.split(";", 1)[0].strip().lower()
            raise FetchError(url, f"not HTML (content type {main})", SkipCode.NOT_HTML)
        encoding = _header(items, "Content-Encoding") or ""
        decoder = _Decoder(encoding, self.config.max_bytes, url)
        length = _header(items, "Content-Length")
        if (
            not decoder.kind
            and length
            and _is_digits(length)
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
            if not content_type and not _sniff_html(body):
                raise FetchError(
                    url,
                    "not HTML (no content type, and the body is not HTML)",
                    SkipCode.NOT_HTML,
                )
            if _looks_binary(body):
                raise FetchError(url, "binary body served as HTML", SkipCode.NOT_HTML)
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
        cfg = self.config
        deadline_at = time.monotonic() + cfg.deadline
        headers = {
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5" if html_only else "*/*"
        }
        conditional = bool(etag or last_modified)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        seen = {url}
        current = url
        while True:
            ex = self._with_retries(current, headers, deadline_at, html_only)
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
        text, encoding = decode_body(ex.body, _header(ex.headers, "Content-Type"))
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

    def _with_retries(
        self, url: str, headers: dict[str, str], deadline_at: float, html_only: bool
    ) -> _Exchange:
        cfg = self.config
        attempt = 0
        while True:
            ex = self._exchange(url, headers, deadline_at, want_body=True, html_only=html_only)
            if ex.status not in RETRY_STATUSES:
                return ex
            retry_after = parse_retry_after(_header(ex.headers, "Retry-After"))
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
        return "TLS error: " + text[:200], SkipCode.UNREACHABLE
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
