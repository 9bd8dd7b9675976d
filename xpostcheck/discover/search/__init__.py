"""Discovery by web search: distinctive sentences of the publisher's articles asked of a search
provider (SearXNG, the Brave Search API), the result pages that are not the publisher's grouped
into candidate sites.

- `sentences`: which sentences to ask (rare words, no boilerplate), a few per article;
- `providers`: the provider plugins (`PROVIDERS`: name -> class);
- `run`: one run within a query budget, failures counted, results grouped and ranked;
- `session`: the wiring from a `SearchRequest` (sources read, provider configured).
"""
