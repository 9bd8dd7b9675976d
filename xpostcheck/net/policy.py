"""The address policy: which IP addresses a fetch may connect to, by host and port.

A private, loopback, link-local (or otherwise non-public) address may be fetched only where the
user named that exact address and port (a site, --url or source URL naming it, its port
defaulting by scheme) or allowed it with `--allow-private HOST[:PORT]` (without a port: every
port). A host name is never trusted for what it resolves to: a name that resolves to a
non-public address is refused unless that name itself is allowed. A redirect or a discovered
link never leads to a non-public address otherwise, not even to another port of a named one.

Addresses that embed an IPv4 address (IPv4-mapped and -compatible, 6to4, Teredo, NAT64) are
judged by the address they embed; site-local, unique-local and NAT64 local-use are non-public.

The policy is checked twice: before a request, on every address the host name resolves to, and
again on the address the socket actually connected to (see guard.py), so that a DNS answer that
changes between the two (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, never public
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated (RFC 3879), still not public
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # IPv4-compatible, deprecated (RFC 4291)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo client,
    NAT64), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client, already un-obfuscated (XOR 0xffffffff)
    if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):  # :: and ::1 are themselves
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet; an address that embeds an IPv4 address is
    judged by that address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or ip in _SITE_LOCAL:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
    )


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def host_key(host: str) -> str:
    """A host as the policy compares it: lower case, no trailing dot or brackets, an IP
    address in its canonical form."""
    key = host.strip().lower().rstrip(".").strip("[]")
    ip = parse_ip(key)
    return str(ip) if ip is not None else key


def host_port(host: str, port: int) -> str:
    """HOST:PORT as a user writes it ([ADDRESS]:PORT for IPv6)."""
    key = host_key(host)
    return f"[{key}]:{port}" if ":" in key else f"{key}:{port}"


def parse_allowed(entry: str) -> tuple[str, int | None]:
    """`HOST`, `HOST:PORT`, `ADDRESS` or `[ADDRESS]:PORT` as (host key, port or None);
    ValueError with what is wrong."""
    text = entry.strip()
    if "://" in text:
        raise ValueError("give HOST or HOST:PORT, not a URL")
    port_text = ""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("an IPv6 address with a port is written [ADDRESS]:PORT")
        port_text = rest[1:] if rest else ""
        if rest and not port_text:
            port_text = "?"
    elif text.count(":") > 1:
        host = text  # a bare IPv6 address: every port
    else:
        host, colon, port_text = text.partition(":")
        if colon and not port_text:
            port_text = "?"
    key = host_key(host)
    if not key:
        raise ValueError("no host given")
    if any(c.isspace() or c in "/@?#" for c in key):
        raise ValueError("not a host name or address")
    if not port_text:
        return key, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("the port must be a number from 1 to 65535")
    return key, int(port_text)


@dataclass(frozen=True)
class AddressPolicy:
    """Entries of `allowed_hosts` ("HOST" for every port, "HOST:PORT", "[ADDRESS]:PORT") may
    be non-public; nothing else may."""

    allowed_hosts: frozenset[str] = frozenset()
    _allowed: frozenset[tuple[str, int | None]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allowed = frozenset(parse_allowed(entry) for entry in self.allowed_hosts)
        object.__setattr__(self, "_allowed", allowed)

    def allows_private(self, host: str, port: int | None) -> bool:
        """True when `host` (on `port`; None: a port not known) may be non-public."""
        key = host_key(host)
        return (key, None) in self._allowed or (port is not None and (key, port) in self._allowed)

    def ip_allowed(self, host: str, ip: str | IPAddress, port: int | None = None) -> bool:
        """May a connection to `host` on `port` end at `ip`?"""
        addr = parse_ip(ip) if isinstance(ip, str) else ip
        if addr is None:
            return False
        return is_public(addr) or self.allows_private(host, port)

    def check_host(self, host: str, port: int) -> str | None:
        """None when `host` may be fetched on `port`; else the reason it may not.

        Resolves a name and checks every address it resolves to."""
        key = host_key(host)
        literal = parse_ip(key)
        if literal is not None:
            if self.ip_allowed(key, literal, port):
                return None
            where = host_port(key, port)
            return (
                f"refused: {where} is a non-public address that was not named; "
                f"to scan it, pass --allow-private {where}"
            )
        if self.allows_private(key, port):
            return None
        try:
            infos = socket.getaddrinfo(key, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            return f"cannot resolve host {key} ({exc})"
        for info in infos:
            addr = str(info[4][0])
            ip = parse_ip(addr)
            if ip is None or not is_public(ip):
                return (
                    f"refused: {key} resolves to non-public {addr}; "
                    f"to scan it, pass --allow-private {key}"
                )
        return None


def named_addresses(urls: Iterable[str]) -> frozenset[str]:
    """The ADDRESS:PORT entries that URLs the user gave name (the port by scheme when not
    written): the only non-public addresses a scan may reach besides `--allow-private`. A host
    name is not an entry: what it resolves to is not the user's naming of an address."""
    out = set()
    for url in urls:
        try:
            parts = urlsplit(url.strip())
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            continue
        host = parts.hostname or ""
        if port is not None and parse_ip(host) is not None:
            out.add(host_port(host, port))
    return frozenset(out)
