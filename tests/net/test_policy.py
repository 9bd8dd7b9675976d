"""The address policy: which addresses are public (embedded IPv4 forms judged by what they embed),
and which non-public addresses a user's naming allows, by host and port."""

from __future__ import annotations

import ipaddress

import pytest

from xpostcheck.net.policy import AddressPolicy, embedded_ipv4, is_public, parse_allowed

# (address, public?) - every form that embeds an IPv4 address is judged by that address.
ADDRESSES = [
    # plain IPv4
    ("93.184.215.14", True),
    ("8.8.8.8", True),
    ("127.0.0.1", False),
    ("127.8.9.10", False),
    ("10.0.0.5", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("224.0.0.1", False),
    ("255.255.255.255", False),
    ("192.0.2.45", False),  # documentation
    # plain IPv6
    ("2606:4700:4700::1111", True),
    ("::1", False),
    ("::", False),
    ("fe80::1", False),
    ("fc00::1", False),
    ("fd12:3456::1", False),
    ("fec0::1", False),  # site-local (deprecated, still non-public)
    ("feff::1", False),  # the end of fec0::/10
    ("ff02::1", False),
    ("2001:db8::1", False),
    # IPv4-mapped
    ("::ffff:127.0.0.1", False),
    ("::ffff:10.1.2.3", False),
    ("::ffff:169.254.169.254", False),
    ("::ffff:8.8.8.8", True),
    # IPv4-compatible (deprecated)
    ("::127.0.0.1", False),
    ("::169.254.169.254", False),
    ("::8.8.8.8", True),
    # 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD
    ("2002:a9fe:a9fe::", False),
    ("2002:7f00:1::1", False),
    ("2002:a00:5::1", False),
    ("2002:808:808::1", True),
    # Teredo: the client address is the last 32 bits, XOR 0xffffffff
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:5601:5601", False),  # client 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", True),  # client 8.8.8.8
    # NAT64 well-known prefix, and the local-use prefix (never public)
    ("64:ff9b::a9fe:a9fe", False),
    ("64:ff9b::7f00:1", False),
    ("64:ff9b::a00:1", False),
    ("64:ff9b::808:808", True),
    ("64:ff9b:1::808:808", False),
]


@pytest.mark.parametrize(("text", "public"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_is_public_judges_embedded_ipv4(text: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(text)) is public


def test_embedded_ipv4_forms() -> None:
    def emb(text: str) -> str | None:
        found = embedded_ipv4(ipaddress.IPv6Address(text))
        return None if found is None else str(found)

    assert emb("::ffff:1.2.3.4") == "1.2.3.4"
    assert emb("::1.2.3.4") == "1.2.3.4"
    assert emb("2002:102:304::") == "1.2.3.4"
    assert emb("2001:0:4136:e378:8000:63bf:fefd:fcfb") == "1.2.3.4"
    assert emb("64:ff9b::102:304") == "1.2.3.4"
    assert emb("2606:4700:4700::1111") is None
    assert emb("::1") is None and emb("::") is None


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("127.0.0.1", ("127.0.0.1", None)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("Intranet.Example.", ("intranet.example", None)),
        ("intranet.example:443", ("intranet.example", 443)),
        ("::1", ("::1", None)),
        ("[::1]", ("::1", None)),
        ("[::1]:8080", ("::1", 8080)),
        ("[0:0::1]:81", ("::1", 81)),
    ],
)
def test_parse_allowed(entry: str, parsed: tuple[str, int | None]) -> None:
    assert parse_allowed(entry) == parsed


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("", "no host given"),
        ("host:notaport", "the port must be a number from 1 to 65535"),
        ("host:70000", "the port must be a number from 1 to 65535"),
        ("[::1", "an IPv6 address with a port is written [ADDRESS]:PORT"),
        ("http://host/", "give HOST or HOST:PORT, not a URL"),
    ],
)
def test_parse_allowed_refuses_bad_entries(entry: str, problem: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_allowed(entry)
    assert str(err.value) == problem


def test_a_named_address_is_allowed_on_its_port_only() -> None:
    policy = AddressPolicy(frozenset({"127.0.0.1:8080"}))
    assert policy.check_host("127.0.0.1", 8080) is None
    assert policy.check_host("127.0.0.1", 8081) == (
        "refused: 127.0.0.1:8081 is a non-public address that was not named; "
        "to scan it, pass --allow-private 127.0.0.1:8081"
    )
    assert policy.ip_allowed("127.0.0.1", "127.0.0.1", 8080) is True
    assert policy.ip_allowed("127.0.0.1", "127.0.0.1", 8081) is False
    assert policy.ip_allowed("127.0.0.1", "127.0.0.1") is False  # port unknown: not the one named
    assert policy.ip_allowed("127.0.0.1", "93.184.215.14", 1) is True


def test_a_host_allowed_without_port_is_allowed_on_every_port() -> None:
    policy = AddressPolicy(frozenset({"127.0.0.1", "[::1]:81"}))
    assert policy.check_host("127.0.0.1", 1) is None
    assert policy.check_host("127.0.0.1", 65535) is None
    assert policy.check_host("[::1]", 81) is None
    assert policy.check_host("0:0::1", 81) is None  # the same address, written otherwise
    assert policy.check_host("::1", 82) == (
        "refused: [::1]:82 is a non-public address that was not named; "
        "to scan it, pass --allow-private [::1]:82"
    )


def test_a_name_resolving_to_a_non_public_address_needs_the_flag() -> None:
    refused = AddressPolicy(frozenset({"127.0.0.1"})).check_host("localhost", 80) or ""
    assert refused.startswith("refused: localhost resolves to non-public ")
    assert refused.endswith("; to scan it, pass --allow-private localhost")
    assert AddressPolicy(frozenset({"localhost"})).check_host("localhost", 80) is None
    assert AddressPolicy(frozenset({"LocalHost:80"})).check_host("localhost", 80) is None
    assert AddressPolicy(frozenset({"localhost:80"})).check_host("localhost", 81) is not None
    # a name allowed stays a name: its addresses are not allowed under another name
    assert AddressPolicy(frozenset({"localhost"})).check_host("127.0.0.1", 80) is not None


def test_the_connected_address_is_judged_with_the_host_and_port() -> None:
    policy = AddressPolicy(frozenset({"intranet", "127.0.0.1:80"}))
    assert policy.ip_allowed("intranet", "10.1.2.3", 8080) is True
    assert policy.ip_allowed("example.org", "10.1.2.3", 80) is False
    assert policy.ip_allowed("example.org", "2002:a9fe:a9fe::1", 80) is False
    assert policy.ip_allowed("example.org", "::ffff:127.0.0.1", 80) is False
    assert policy.ip_allowed("example.org", "fec0::1", 80) is False
    assert policy.ip_allowed("example.org", "not an address", 80) is False
