"""The publisher's own hosts, which discovery never lists: named with `--publisher-host`, or
taken from `--sources` (the host of a feed or sitemap URL, the hosts of the articles' URLs in
local files). Nothing is fetched: a source URL gives its host as it stands.

In: source specs as `scan --sources` takes them. Out: a set of lower-case host names.
"""

from __future__ import annotations

from collections.abc import Iterable

from xpostcheck.sources.loader import load_sources
from xpostcheck.util.urls import host_of

__all__ = ["publisher_hosts"]


def publisher_hosts(specs: Iterable[str]) -> set[str]:
    """The hosts of the publisher's articles named by `specs` (SourceError for a file that
    cannot be read, naming it)."""
    hosts: set[str] = set()
    for spec in specs:
        if spec.lower().startswith(("http://", "https://")):
            host = host_of(spec)
            if host:
                hosts.add(host)
            continue
        hosts.update(h for h in (host_of(a.url) for a in load_sources([spec])) if h)
    return hosts
