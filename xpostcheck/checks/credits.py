"""Credits as people write them: the publisher's name or an alias in a credit context.

A line credits the publisher when one of its names (the pack's publisher and aliases, the
source's publisher, the original's domain) stands, as whole words, in one of these contexts:
- a credit verb or label before it ("first appeared on", "Republished from", "Source:", "Via",
  "Courtesy of", "Article publié initialement sur", "Quelle:", "Fonte:", ...), in English,
  Spanish, French, German, Portuguese and Italian;
- a relative clause after it ("Global Research, where this article first appeared");
- a byline form ("By A, Publisher", "A / Publisher", "A for Publisher", "Par A, Publisher");
- a copyright line ("© 2024 Publisher", "Copyright Publisher");
- a link to the publisher's site whose text is the name.

In: a line, the names, and the anchor texts of links to the publisher. Out: the form found
(a short word for evidence), or None. Pure functions; no page or rule knowledge.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["LANGUAGES", "Credit", "credit_in", "name_patterns"]

LANGUAGES = ("en", "es", "fr", "de", "pt", "it")

# Verbs and labels that, right before a name, make the line a credit. Case-folded; "\s+"
# between words. A cue ends at most a few words before the name (its preposition, "the").
_CUES = (
    # en
    r"original(?:ly)? (?:source|published|posted|appeared|ran)",
    r"original source of (?:this|the) (?:article|story|post|piece|text) is",
    r"first (?:published|appeared|posted|ran)",
    r"appeared (?:first|originally)",
    r"published (?:first|originally|with (?:the )?permission)",
    r"re-?published",
    r"re-?printed",
    r"re-?posted",
    r"reproduced",
    r"cross-?posted",
    r"syndicated",
    r"source",
    r"sources",
    r"via",
    r"courtesy(?: of)?",
    r"credit",
    r"h/t",
    r"published (?:by|on|in|at)",
    r"this (?:article|story|post|piece) (?:is )?from",
    r"with permission (?:of|from)",
    r"appeared (?:on|in|at)",
    # es
    r"publicad[oa] (?:originalmente|por primera vez|inicialmente)",
    r"originalmente publicad[oa]",
    r"(?:se )?public[oó] (?:originalmente|por primera vez|inicialmente)",
    r"apareci[oó] (?:originalmente|por primera vez|primero)",
    r"republicad[oa]",
    r"reproducid[oa]",
    r"fuente",
    r"v[ií]a",
    r"cortes[ií]a(?: de)?",
    r"tomado de",
    r"con permiso de",
    r"art[ií]culo original",
    # fr
    r"publi[ée]e? (?:initialement|originellement|d'abord|à l'origine|pour la première fois)",
    r"(?:initialement|originellement|d'abord) publi[ée]e?",
    r"paru(?:e)? (?:initialement|d'abord)",
    r"republi[ée]e?",
    r"reproduit(?:e)?",
    r"source",
    r"sources",
    r"avec l'aimable autorisation(?: de)?",
    r"article original",
    r"repris (?:de|du)",
    r"traduit (?:de|du)",
    # de
    r"quelle",
    r"quellen",
    r"zuerst (?:erschienen|veröffentlicht)",
    r"erstmals (?:erschienen|veröffentlicht)",
    r"ursprünglich (?:erschienen|veröffentlicht)",
    r"erschien (?:zuerst|ursprünglich|erstmals)",
    r"erschienen (?:bei|auf|in)",
    r"veröffentlicht (?:bei|auf|von)",
    r"mit freundlicher genehmigung(?: von| der| des)?",
    r"übernommen von",
    r"nachdruck",
    r"originalartikel",
    # pt
    r"publicad[oa] (?:originalmente|originariamente|pela primeira vez)",
    r"originalmente publicad[oa]",
    r"fonte",
    r"cortesia(?: de| da| do)?",
    r"republicad[oa]",
    r"reproduzid[oa]",
    r"artigo original",
    # it
    r"pubblicat[oa] (?:originariamente|originalmente|per la prima volta|inizialmente)",
    r"originariamente pubblicat[oa]",
    r"apparso (?:originariamente|per la prima volta|su|in)",
    r"ripubblicat[oa]",
    r"riprodott[oa]",
    r"per gentile concessione(?: di| del| della)?",
    r"articolo originale",
    r"tratto da",
)
# Short words a cue may be followed by before the name ("first appeared on the", "sur le site").
_LINK_WORDS = (
    r"(?:on|in|at|by|from|of|the|website|site|en|el|la|por|de|del|sur|le|les|du|des|par|chez|"
    r"auf|bei|von|der|die|dem|im|am|na|no|em|pela|pelo|do|da|su|sul|nel|nella|di|della|dal|"
    r"dalla|il|lo|web)"
)
# Relative clauses after the name: "Global Research, where this article first appeared".
_AFTER = (
    r"where (?:this|it) (?:article |story |post )?(?:was )?(?:first |originally )?"
    r"(?:appeared|published|ran)",
    r"où (?:cet article|il) a (?:d'abord |initialement )?(?:paru|été publié)",
    r"donde (?:se )?(?:public[oó]|apareci[oó])",
    r"wo (?:dieser artikel|er) (?:zuerst )?erschien",
    r"onde (?:foi )?(?:publicado|apareceu)",
    r"dove (?:è )?(?:apparso|stato pubblicato)",
)
_BY = r"(?:by|por|par|von|di|da|de|door|af)"
_FOR = r"(?:for|para|pour|für|per|,|/|\||—|–|-|·)"
_CUE_BEFORE = re.compile(
    r"(?<![\w])(?:" + "|".join(_CUES) + r")\s*[:\-–—]?\s*(?:" + _LINK_WORDS + r"\s+){0,3}$"
)
_AFTER_NAME = re.compile(r"^\W{0,4}\s*(?:" + "|".join(_AFTER) + r")")
# "By A, Publisher", "Par A / Publisher", "A for Publisher", "A / Publisher": a byline; at most
# six words of person name, so that a sentence does not pass for one.
_BYLINE = re.compile(
    r"(?:^|(?<=\W))(?:" + _BY + r"\s+)?(?:[\w.'’-]+\s+){0,5}[\w.'’-]+\s*" + _FOR + r"\s*$"
)
_BYLINE_STRICT = re.compile(
    r"(?:^|(?<=\W))" + _BY + r"\s+(?:[\w.'’-]+\s+){0,5}[\w.'’-]+\s*" + _FOR + r"\s*$"
)
_BYLINE_END = re.compile(r"(?:\s(?:for|para|pour|für|per)|\S\s*[/|])\s*$")
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright|urheberrecht|derechos)", re.IGNORECASE)

Credit = str  # the form found: "credit", "byline", "copyright", "link"


def fold(text: str) -> str:
    """Case-folded, NFKC-normalised, whitespace collapsed; punctuation kept (forms need it)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").split())


def name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    """One whole-word pattern per name (longest first)."""
    out = []
    folded = {fold(n) for n in names if n and len(n.strip()) >= 3}
    for name in sorted(folded, key=len, reverse=True):
        out.append(re.compile(r"(?<![\w.])" + re.escape(name) + r"(?![\w])"))
    return out


def credit_in(
    line: str,
    names: Sequence[re.Pattern[str]],
    linked_names: Iterable[str] = (),
    *,
    short: bool = True,
    copyright: bool = True,
) -> Credit | None:
    """The credit form in which `line` names the publisher, or None.

    `linked_names`: folded anchor texts of links to the publisher's site on the page.
    `short`: the line is short enough to be a byline (bylines are never a long paragraph).
    `copyright`: whether a copyright line counts (the attribution check leaves it to the
    copyright_notice check: a pack that asks for both asks for two acknowledgements).
    """
    low = fold(line)
    linked = [t for t in linked_names if t and t in low]
    for pattern in names:
        for m in pattern.finditer(low):
            before = low[max(0, m.start() - 90) : m.start()]
            after = low[m.end() : m.end() + 80]
            if _CUE_BEFORE.search(before):
                return "credit"
            if _AFTER_NAME.search(after):
                return "credit"
            if short and len(low) <= 160:
                if _BYLINE_STRICT.search(before):
                    return "byline"
                if _BYLINE_END.search(before) and _BYLINE.search(before):
                    return "byline"
            window = low[max(0, m.start() - 60) : m.end() + 40]
            if _COPYRIGHT.search(window):
                if copyright:
                    return "copyright"
                continue  # a copyright line, linked or not, is the copyright's acknowledgement
            if any(m.group(0) in t for t in linked):
                return "link"
    return None
