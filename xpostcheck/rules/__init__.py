"""Rule packs: the TOML loader, option validation and overrides.

In: pack names and files. Out: a RuleSet, or RuleError naming file and line."""
