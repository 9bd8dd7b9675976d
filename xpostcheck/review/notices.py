"""The compliance notice for a recorded copy: which copies still need one, which rule set and
source texts to cite, and the site's contact links, handed to `review.notice` to draft.

In: a Store, a URL, a rule pack or file, the source index path. Out: the notices' text, or
XPostCheckError when there is nothing to ask for.
"""

from __future__ import annotations

from pathlib import Path

from xpostcheck.errors import XPostCheckError
from xpostcheck.match.index import SourceIndex
from xpostcheck.models import Copy
from xpostcheck.review.evidence import archived_html
from xpostcheck.review.notice import draft_notice, find_contacts, load_template
from xpostcheck.rules.loader import load_ruleset
from xpostcheck.store import Store

__all__ = ["notice_for"]


def _needs_notice(copy: Copy) -> bool:
    """An unmet error condition that nobody excused (a 'notified' mark still needs the fix)."""
    return any(
        not f.passed and f.severity == "error" and f.triage in (None, "notified")
        for f in copy.checks
    )


def notice_for(
    store: Store,
    url: str,
    rules: str | None = None,
    *,
    index_path: str | Path | None,
    template_path: str | Path | None = None,
) -> str:
    """Draft the compliance notice for the copies recorded at `url` by its latest scan.

    `rules` (a pack name or file) defaults to the rule set that scan used; one that is not the
    scan's is refused, since the notice cites the rules' publisher and policy."""
    recorded = store.previous_copies(url)
    copies = [c for c in recorded if _needs_notice(c)]
    if not copies:
        if any(not f.passed and f.severity == "error" for c in recorded for f in c.checks):
            raise XPostCheckError(
                "every violation recorded for this URL is triaged (licensed, ignored or a false "
                "positive); nothing to ask for",
                where=url,
            )
        raise XPostCheckError(
            "no violation recorded for this URL in the latest scan; nothing to ask for", where=url
        )
    scanned_with = store.rules_of_latest(url)
    if rules is None:
        if not scanned_with:
            raise XPostCheckError("the scan recorded no rule set; give --rules", where=url)
        try:
            ruleset = load_ruleset(scanned_with)
        except XPostCheckError:
            raise XPostCheckError(
                f"the copy was checked against '{scanned_with}', which is not a shipped pack; "
                "give its rule file with --rules",
                where=url,
            ) from None
    else:
        ruleset = load_ruleset(rules)
        if scanned_with and ruleset.name != scanned_with:
            raise XPostCheckError(
                f"the copy was checked against '{scanned_with}', not '{ruleset.name}'; "
                "give that pack or file with --rules, or leave --rules out",
                where=url,
            )
    index = SourceIndex.load(index_path) if index_path and Path(index_path).exists() else None
    page_html = archived_html(store, url)
    contacts = find_contacts(page_html, url) if page_html else []
    template = load_template(template_path) if template_path else None
    notices = [
        draft_notice(
            copy,
            index.get(copy.source_url) if index else None,
            ruleset,
            contacts=contacts,
            template=template,
        )
        for copy in copies
    ]
    return "\n\n".join(notices)
