"""One scan: begin, one unit of work per site, finish; history as pure functions.

In: Settings. Out: a ScanResult (Report and what the report formats need)."""
