"""The editor's follow-up: archived pages read back (evidence) and notices to republishers
(notices chooses what to ask for, notice drafts the text).

In: a Store and a RuleSet. Out: text for the CLI."""
