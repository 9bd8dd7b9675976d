"""Compliance notices and contact discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from xpostcheck.models import Copy, Finding, Passage, Rule, RuleSet, SourceArticle
from xpostcheck.review.notice import NoticeError, draft_notice, find_contacts, load_template

SOURCE = SourceArticle(
    url="https://harbor-news.example/2024/dredging-plan",
    title="Harbor dredging plan approved",
    text=(
        "The county board approved the harbor dredging plan on Tuesday, after a long and "
        "sometimes heated meeting. Work starts in October."
    ),
    authors=("Ana Ruiz",),
    published="2024-03-02",
    publisher="Harbor News",
)
RULES = RuleSet(
    name="harbornews",
    publisher="Harbor News",
    rules=(
        Rule(
            "hn-credit",
            "attribution",
            options={"phrases": ["Originally published by {publisher}", "Source: {publisher}"]},
        ),
        Rule("hn-copyright", "copyright_notice", description="Keep the copyright line."),
        Rule("hn-link", "link_to_original"),
        Rule("hn-ads", "non_commercial", severity="warning"),
    ),
    policy_url="https://harbor-news.example/republishing",
)


def the_copy(*checks: Finding, passages: tuple[Passage, ...] = ()) -> Copy:
    return Copy(
        url="http://coastal-blog.example/posts/dredging.html",
        site="coastal-blog.example",
        source_url=SOURCE.url,
        coverage=0.962,
        kind="full",
        verdict="violation",
        passages=passages,
        checks=checks,
        fetched_at="2024-05-06T06:00:03+00:00",
    )


COPY = the_copy(
    Finding("hn-credit", "attribution", False, "error", "no credit line naming the original",
            'looked for "Originally published by Harbor News"'),
    Finding("hn-copyright", "copyright_notice", False, "error",
            "no copyright line with a year and a holder."),
    Finding("hn-link", "link_to_original", False, "error",
            "links to the publisher's home page only", "https://harbor-news.example/"),
    Finding("hn-ads", "non_commercial", False, "warning", "ad network markup on the page",
            "pagead2 script"),
    Finding("hn-x", "canonical", False, "error", "canonical points elsewhere", None,
            triage="false-positive"),
    passages=(Passage(130, 152, 160, 182), Passage(0, 128, 20, 148)),
)  # fmt: skip


def test_default_notice_exact() -> None:
    text = draft_notice(
        COPY,
        SOURCE,
        RULES,
        contacts=["editor@coastal-blog.example", "http://coastal-blog.example/contact"],
    )
    assert text == (
        "To: editor@coastal-blog.example, http://coastal-blog.example/contact\n"
        'Subject: Republishing "Harbor dredging plan approved" from Harbor News\n'
        "\n"
        "Hello,\n"
        "\n"
        "Thank you for sharing our work. Your page\n"
        "  http://coastal-blog.example/posts/dredging.html\n"
        'republishes our article "Harbor dredging plan approved" by Ana Ruiz\n'
        "  https://harbor-news.example/2024/dredging-plan\n"
        "(96% of the text; a full copy), from the words\n"
        '  "The county board approved the harbor dredging plan on Tuesday, after a long and '
        'sometimes heated …".\n'
        "\n"
        "We welcome republishing on a few conditions, set out at\n"
        "  https://harbor-news.example/republishing.\n"
        "\n"
        "The copy does not meet these conditions yet:\n"
        "\n"
        "1. Credit the original publisher.\n"
        "   We found: no credit line naming the original "
        '(looked for "Originally published by Harbor News").\n'
        "   Add this credit line at the top or the bottom of the article:\n"
        "       Originally published by Harbor News\n"
        "\n"
        "2. Keep the copyright line.\n"
        "   We found: no copyright line with a year and a holder.\n"
        "   Add the copyright line, with the year and the holder:\n"
        "       Copyright © 2024 Ana Ruiz\n"
        "\n"
        "3. Link to the original article.\n"
        "   We found: links to the publisher's home page only (https://harbor-news.example/).\n"
        "   Add a link to the original article (not to the home page), for example:\n"
        '       <a href="https://harbor-news.example/2024/dredging-plan">'
        "Harbor dredging plan approved</a>\n"
        "\n"
        "We also noticed:\n"
        "- Republish only on a non-commercial site (no advertising): ad network markup on the "
        "page (pagead2 script). Remove the advertising from this page, or write to us for "
        "permission first: the policy covers non-commercial sites.\n"
        "\n"
        "Could you make these changes within the next two weeks? If you have a separate "
        "agreement with us, or think we have made a mistake, just reply and tell us.\n"
        "\n"
        "With thanks,\n"
        "Harbor News\n"
    )
    assert "canonical" not in text  # triaged as a false positive


def test_notice_without_source_or_contacts() -> None:
    copy = the_copy(Finding("hn-link", "link_to_original", False, "error", "no link", None))
    text = draft_notice(copy, None, RuleSet("bare", "", ()))
    lines = text.splitlines()
    assert lines[0] == (
        "To: (no contact details found on the page; look for an editor's address on "
        "coastal-blog.example)"
    )
    assert lines[1] == 'Subject: Republishing "https://harbor-news.example/2024/dredging-plan"'
    assert "republishes our article\n  https://harbor-news.example/2024/dredging-plan\n" in text
    assert "The copy does not meet this condition yet:" in text
    assert "Could you make this change within" in text
    assert text.endswith("With thanks,\nThe editors\n")


def test_custom_template(tmp_path: Path) -> None:
    path = tmp_path / "mine.txt.j2"
    path.write_text(
        "Dear {{ site }}: please fix{% for f in fixes %} [{{ f.kind }}: {{ f.snippet }}]"
        "{% endfor %}.\n",
        encoding="utf-8",
    )
    text = draft_notice(COPY, SOURCE, RULES, template=load_template(path))
    assert text == (
        "Dear coastal-blog.example: please fix"
        " [attribution: Originally published by Harbor News]"
        " [copyright_notice: Copyright © 2024 Ana Ruiz]"
        ' [link_to_original: <a href="https://harbor-news.example/2024/dredging-plan">'
        "Harbor dredging plan approved</a>].\n"
    )


def test_template_errors_are_named(tmp_path: Path) -> None:
    with pytest.raises(NoticeError) as err:
        draft_notice(COPY, SOURCE, RULES, template="Hello\n{% for f in fixes %}\n")
    assert str(err.value) == (
        "notice template: line 2: Unexpected end of template. Jinja was looking for the "
        "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."
    )
    with pytest.raises(NoticeError) as err:
        draft_notice(COPY, SOURCE, RULES, template="{{ sender }}")
    assert str(err.value).startswith(
        "notice template: 'sender' is undefined; the template may use: "
    )
    with pytest.raises(NoticeError) as err:
        load_template(tmp_path / "nope.j2")
    assert str(err.value) == (
        f"{tmp_path / 'nope.j2'}: cannot read the notice template: "
        f"[Errno 2] No such file or directory: '{tmp_path / 'nope.j2'}'"
    )


def test_find_contacts() -> None:
    html = """<html><body>
    <nav><a href="/">Home</a> <a href="/about-us/">About us</a> <a href="/news">News</a></nav>
    <article><p>Story</p>
      <a href="mailto:Tips@Coastal-Blog.example?subject=Tip">Send a tip</a></article>
    <footer>
      <a href="mailto:editor@coastal-blog.example">Editor</a>
      <a href="mailto:tips@coastal-blog.example">Tips again</a>
      <a href="mailto:not-an-address">broken</a>
      <a href="https://forms.example/coastal#top">Get in touch</a>
      <a href="/kontakt">Kontakt</a>
      <a href="javascript:void(0)">Contact (script)</a>
      <a href="/contact">Contact</a>
    </footer></body></html>"""
    assert find_contacts(html, "http://coastal-blog.example/posts/dredging.html") == [
        "Tips@Coastal-Blog.example",
        "editor@coastal-blog.example",
        "https://forms.example/coastal",
        "http://coastal-blog.example/kontakt",
        "http://coastal-blog.example/contact",
    ]
    assert find_contacts("", "http://x.example/") == []
    assert find_contacts("<p>No links at all</p>", "http://x.example/") == []
    assert find_contacts('<a href="/about">About</a>', "http://x.example/a/b") == [
        "http://x.example/about"
    ]
