"""Judging one copy against a RuleSet: one function per check kind, in a registry.

In: Page, SourceArticle, Match, RuleSet, SiteProfile. Out: Finding records.

Layers, each importing only those below it: `textutil` (text helpers) -> `siteprofile` (site
chrome) -> `context` (CheckContext, PageFacts, Option, KindSpec) -> one module per family of
kinds (`text`, `links`, `embeds`, `commercial`, `content`) -> `registry` (KINDS, run_checks)."""
