"""Where pages come from: the polite crawler (frontier, hosts, recrawl), feeds and sitemaps.

In: sites and single URLs. Out: a stream of Fetched pages and Skipped URLs."""
