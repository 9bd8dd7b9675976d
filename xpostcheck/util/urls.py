"""URL canonicalisation, shared by the crawler (deduplication) and the checks (link to original)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only track a click; they never change which article a URL names.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "ref_url",
        "source",
        "src",
        "cmpid",
        "ncid",
        "spm",
        "share",
        "s_cid",
        "mkt_tok",
        "oly_enc_id",
        "oly_anon_id",
        "vero_id",
        "__twitter_impression",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_", "itm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def is_tracking_param(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def _normalise_path(path: str) -> str:
    if not path:
        return "/"
    trailing = path.endswith("/")
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm == ".":
        norm = "/"
    if trailing and not norm.endswith("/"):
        norm += "/"
    # Re-quote consistently: unquote what is safe to unquote, then quote once.
    return quote(unquote(norm), safe=_SAFE_PATH)


def host_of(url: str) -> str:
    """The lower-cased host name of a URL, without port ('' when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def canonicalize(url: str) -> str:
    """A stable form of `url` for deduplication.

    Lower-cases scheme and host, drops default ports, the fragment, empty and tracking query
    parameters, resolves dot segments and sorts the query. Keeps `www.` and the trailing slash,
    since a server may treat them differently.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    )
    return urlunsplit((scheme, netloc, _normalise_path(parts.path), urlencode(query), ""))


_INDEX_PAGE = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)


def article_key(url: str) -> str:
    """A looser key that names the same article across http/https, `www.`, a trailing slash,
    `index.html`, tracking parameters and fragments. Two links with equal keys point at the
    same article."""
    canon = canonicalize(url)
    try:
        parts = urlsplit(canon)
    except ValueError:
        return canon
    host = parts.netloc
    if host.startswith("www."):
        host = host[4:]
    host = re.sub(r":(80|443)$", "", host)
    path = _INDEX_PAGE.sub("/", parts.path).rstrip("/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def is_home_page(url: str) -> bool:
    """True for a site's root (with or without an index page or query)."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return False
    return _INDEX_PAGE.sub("/", path).strip("/") == ""


def _site_of(url: str) -> tuple[str, str]:
    """(host without `www.`, explicit port or ''): what same_site compares."""
    host = host_of(url)
    if host.startswith("www."):
        host = host[4:]
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return host, ""
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range: compare it as written
        return host, parts.netloc.rpartition(":")[2].lower()
    # 80 and 443 count as no port whatever the scheme, as in article_key: two URLs with the
    # same article key are always on the same site.
    if port is None or port in (80, 443):
        return host, ""
    return host, str(port)


def same_site(a: str, b: str) -> bool:
    """Same host once `www.` is ignored, and the same port.

    http and https count as one site, and a default port (80, 443) equals no port; but the
    same host on two other ports is two sites (two servers, two publishers).
    """
    return _site_of(a) == _site_of(b)


# --- the same article in another form (AMP, mobile, print) ---------------------------------

_AMP_CACHE = re.compile(r"^/[cvi]/(s/)?([^/]+)(/.*)?$")
_TWIN_HOST_PREFIXES = ("m.", "amp.", "mobile.")
_TWIN_QUERY = {
    "amp": None,  # any value: ?amp, ?amp=1, ?amp=true
    "outputtype": {"amp", "print"},
    "output": {"amp", "print"},
    "view": {"amp", "print"},
    "print": None,
    "printable": None,
}
_TWIN_SEGMENTS = frozenset({"amp", "print"})
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)


def _from_amp_cache(parts: SplitResult) -> SplitResult:
    """`https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a` names
    `https://www.example.com/a`."""
    host = (parts.hostname or "").lower()
    if not host.endswith(".cdn.ampproject.org"):
        return parts
    m = _AMP_CACHE.match(parts.path)
    if not m:
        return parts
    scheme = "https" if m.group(1) else "http"
    return SplitResult(scheme, m.group(2), m.group(3) or "/", parts.query, "")


def original_key(url: str) -> str:
    """`article_key` of the article a URL names, reading its AMP, mobile and print forms as
    the article itself, as search engines do: the AMP cache URL, an `m.`, `amp.` or
    `mobile.` host, a `/amp` or `/print` path segment at either end, `.amp.html`, and
    `?amp=1`, `?outputType=amp`, `?print=1`, `?view=print`. Two URLs with equal keys name the
    same article."""
    try:
        parts = _from_amp_cache(urlsplit(url.strip()))
        host = (parts.hostname or "").lower()
        netloc = parts.netloc.lower()
    except ValueError:
        return article_key(url)
    bare = host[4:] if host.startswith("www.") else host
    for prefix in _TWIN_HOST_PREFIXES:
        if bare.startswith(prefix) and bare.count(".") >= 2:
            netloc = netloc.replace(host, bare[len(prefix) :], 1)
            break
    segments = parts.path.split("/")
    trailing = parts.path.endswith("/")
    inner = [s for s in segments if s]
    while inner and inner[-1].lower() in _TWIN_SEGMENTS:
        inner.pop()
    while len(inner) > 1 and inner[0].lower() in _TWIN_SEGMENTS:
        inner.pop(0)
    if inner:
        inner[-1] = _AMP_SUFFIX.sub("", inner[-1])
    path = "/" + "/".join(inner) + ("/" if trailing and inner else "")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (
            k.lower() in _TWIN_QUERY
            and (_TWIN_QUERY[k.lower()] is None or v.lower() in (_TWIN_QUERY[k.lower()] or ()))
        )
    ]
    return article_key(urlunsplit((parts.scheme, netloc, path, urlencode(query), "")))


def strip_credentials(url: str) -> str:
    """`url` without the `user:password@` part of its authority (unchanged when it has none,
    or is not a URL with an authority)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_userinfo(url, "")
    if "@" not in parts.netloc:
        return url
    hostport = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))


def mask_password(url: str) -> str:
    """`url` with the password of its `user:password@` part replaced by `***`, for a message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_userinfo(url, "***@")
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    netloc = f"{user}:***@{hostport}" if colon else f"{user}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# Where a URL's authority ends in free text (a password may hold an @ of its own, so the
# userinfo runs to the last @ before this).
_AUTHORITY_END = re.compile(r"[/?#\s\"'<>]")


def _redact_userinfo(text: str, replacement: str) -> str:
    """Each `scheme://userinfo@` in `text` as `scheme://` + `replacement`. Linear time: an
    authority ends at a `/`, so the authorities of two `://` never overlap."""
    out: list[str] = []
    done = 0
    pos = text.find("://")
    while pos != -1:
        if pos > 0 and text[pos - 1].isalnum():  # after a scheme, not a bare "://"
            start = pos + 3
            found = _AUTHORITY_END.search(text, start)
            stop = found.start() if found else len(text)
            at = text.rfind("@", start, stop)
            if at != -1:
                out.append(text[done:start] + replacement)
                done = at + 1
            pos = text.find("://", stop)
        else:
            pos = text.find("://", pos + 3)
    out.append(text[done:])
    return "".join(out)


def redact_credentials(text: str) -> str:
    """`text` (a URL, a message, a header block) with every `scheme://user:password@` cut down
    to `scheme://`: the defence of last resort before something is stored, logged or
    reported."""
    if "@" not in text:
        return text
    return _redact_userinfo(text, "")
