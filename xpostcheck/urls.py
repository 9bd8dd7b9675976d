"""URL canonicalisation, shared by the crawler (deduplication) and the checks (link to original)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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


def same_site(a: str, b: str) -> bool:
    """Hosts equal once `www.` is ignored."""

    def bare(h: str) -> str:
        return h[4:] if h.startswith("www.") else h

    return bare(host_of(a)) == bare(host_of(b))
