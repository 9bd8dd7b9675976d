"""The editor's follow-up: history listings, archived pages, notices to republishers.

In: a Store and a RuleSet. Out: text for the CLI."""
