"""Rule packs: the TOML loader (`loader`), a user's overrides (`overrides`) and the plain-text
description (`describe`). Options are validated through the check kinds' specs
(`checks.registry.KINDS`).

In: pack names and files. Out: a RuleSet, or RuleError naming file and line."""
