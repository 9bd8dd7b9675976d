"""The address policy: which IP addresses a fetch may connect to.

A private, loopback, link-local (or otherwise non-public) address may be fetched only when the
user named that host. A redirect or a discovered link never leads to such an address otherwise.

The policy is checked twice: before a request, on every address the host name resolves to, and
again on the address the socket actually connected to (see guard.py), so that a DNS answer that
changes between the two (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
    )


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Hosts in `allowed_hosts` (lower-case names or IP literals) may be non-public."""

    allowed_hosts: frozenset[str] = frozenset()

    def host_allowed_private(self, host: str) -> bool:
        return host.lower().rstrip(".").strip("[]") in self.allowed_hosts

    def ip_allowed(self, host: str, ip: str | IPAddress) -> bool:
        addr = parse_ip(ip) if isinstance(ip, str) else ip
        if addr is None:
            return False
        return is_public(addr) or self.host_allowed_private(host)

    def check_host(self, host: str, port: int) -> str | None:
        """None when `host` may be fetched; else the reason it may not.

        Resolves the name and checks every address it resolves to.
        """
        host = host.lower().rstrip(".")
        literal = parse_ip(host)
        if literal is not None:
            if self.ip_allowed(host, literal):
                return None
            return f"refused: {host} is a non-public address and was not named by the user"
        if self.host_allowed_private(host):
            return None
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            return f"cannot resolve host {host} ({exc})"
        for info in infos:
            addr = str(info[4][0])
            if not self.ip_allowed(host, addr):
                return (
                    f"refused: {host} resolves to non-public address {addr} "
                    "and was not named by the user"
                )
        return None
