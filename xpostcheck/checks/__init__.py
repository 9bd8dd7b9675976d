"""Judging one copy against a RuleSet: one function per check kind, in a registry.

In: Page, SourceArticle, Match, RuleSet, SiteProfile. Out: Finding records."""
