"""URL helpers: which URLs name the same article, and which live on the same site."""

from __future__ import annotations

import pytest

from xpostcheck.util.urls import article_key, same_site


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/a", "https://example.org/b"),
        ("https://www.example.org/a", "http://example.org/b"),
        ("https://EXAMPLE.org./a", "https://example.org/b"),
        ("http://example.org:80/a", "http://example.org/b"),
        ("https://example.org:443/a", "https://example.org/b"),
        ("http://example.org:80/a", "https://example.org:443/b"),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b"),
        ("http://127.0.0.1:8001/a", "https://127.0.0.1:8001/b"),
        ("http://[::1]:8001/a", "http://[::1]:8001/b"),
    ],
)
def test_same_site(a: str, b: str) -> None:
    assert same_site(a, b)
    assert same_site(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/a", "https://example.com/a"),
        ("https://blog.example.org/a", "https://example.org/a"),
        # One host, two servers: two sites.
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a"),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1/a"),
        ("https://example.org:8443/a", "https://example.org/a"),
        ("http://[::1]:8001/a", "http://[::1]:8002/a"),
        ("http://example.org:99999/a", "http://example.org/a"),
    ],
)
def test_not_same_site(a: str, b: str) -> None:
    assert not same_site(a, b)
    assert not same_site(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.example.org:80/a/index.html?utm_source=x#top", "https://example.org/a"),
        ("http://127.0.0.1:8001/a/", "http://127.0.0.1:8001/a"),
    ],
)
def test_one_article_key_means_one_site(a: str, b: str) -> None:
    assert article_key(a) == article_key(b)
    assert same_site(a, b)


def test_ports_split_article_keys() -> None:
    assert article_key("http://127.0.0.1:8001/a") != article_key("http://127.0.0.1:8002/a")
