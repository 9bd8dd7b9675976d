"""A fetched page to a Page: article text, regions, links, metadata, parsed once.

In: Fetched. Out: Page."""
