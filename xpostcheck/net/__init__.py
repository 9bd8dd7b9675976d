"""The network: fetcher (transport, decoding, caching), address policy, robots.txt.

In: URLs and a FetchConfig. Out: Fetched responses, or FetchError with the URL."""
