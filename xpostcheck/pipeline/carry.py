"""Which pages a site's crawl may take as unchanged, decided before the crawl starts.

In: the store (page states of the site's hosts, copies and texts of earlier scans), the
scan's fingerprint, the sources modified since and the sources that arrived since. Out: a
plain dict {url: PageState} of the pages whose findings may carry over; the crawler's `known`
is its `get`, so the crawl's scheduler thread never calls the store or the matcher.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.models import PageState
from xpostcheck.store import Store
from xpostcheck.util.urls import host_of


class NewerSources:
    """The sources that arrived after an earlier scan, and an index of them: asked of the store
    and built once per earlier scan id, for every site unit of this scan (thread-safe)."""

    def __init__(self, store: Store, index: SourceIndex, config: MatchConfig) -> None:
        self.store = store
        self.index = index
        self.config = config
        self._lock = threading.Lock()
        self._urls: dict[int, list[str]] = {}
        self._indexes: dict[int, SourceIndex] = {}

    def urls(self, scan_id: int) -> list[str]:
        """The sources that arrived after scan `scan_id`."""
        with self._lock:
            if scan_id not in self._urls:
                self._urls[scan_id] = self.store.sources_since(scan_id)
            return self._urls[scan_id]

    def index_since(self, scan_id: int) -> SourceIndex:
        """An index of the sources that arrived after scan `scan_id`."""
        urls = self.urls(scan_id)
        with self._lock:
            if scan_id not in self._indexes:
                small = SourceIndex(self.config)
                small.add(a for u in urls if (a := self.index.get(u)) is not None)
                self._indexes[scan_id] = small
            return self._indexes[scan_id]


def site_hosts(urls: Iterable[str]) -> list[str]:
    """The host names a crawl from `urls` may reach: each host, and its twin with or without
    `www.` (a site's crawl follows both)."""
    hosts: dict[str, None] = {}
    for url in urls:
        host = host_of(url)
        if not host:
            continue
        hosts[host] = None
        if not _is_address(host):
            hosts[host[4:] if host.startswith("www.") else f"www.{host}"] = None
    return list(hosts)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def carried_states(
    store: Store,
    hosts: Iterable[str],
    *,
    fingerprint: str,
    modified: frozenset[str],
    newer: NewerSources,
) -> dict[str, PageState]:
    """The page states, by URL, of the pages on `hosts` that a crawl may treat as unchanged:
    last seen by a scan with this scan's fingerprint (same version, rules and match settings),
    none of whose copies is of a source that has changed since, and whose text (as last
    analysed) copies none of the sources that arrived since."""
    states: dict[str, PageState] = {}
    for host in hosts:
        # Each URL from its own host's answer, which holds every record of it (another host's
        # answer has only the records that also name that host).
        states.update((u, s) for u, s in store.page_states(host).items() if host_of(u) == host)
    return {
        url: state
        for url, state in states.items()
        if _may_carry(store, url, state, fingerprint, modified, newer)
    }


def _may_carry(
    store: Store,
    url: str,
    state: PageState,
    fingerprint: str,
    modified: frozenset[str],
    newer: NewerSources,
) -> bool:
    if state.fingerprint != fingerprint:
        return False
    if modified and any(c.source_url in modified for c in store.previous_copies(url)):
        return False
    if newer.urls(state.scan_id):
        # Read the kept text first: a page kept from before texts were kept is fetched again
        # in full, without building an index of the newer sources for it.
        text = store.page_text(url)
        if text is None or newer.index_since(state.scan_id).match(text, limit=1):
            return False
    return True
