"""One home for every default a user can set: the config file, the flags and their help, and
the stages' own config classes all read them from here, so a default changes in one place."""

from __future__ import annotations

CONFIG_FILE = "xpostcheck.toml"  # read from the current folder when --config is not given
DB = "xpostcheck.db"  # --db
FORMAT = "table"  # --format
FAIL_ON = "any"  # --fail-on
DELAY = 1.0  # --delay: seconds between two requests to one host, from the end of the first
THREADS = 16  # --threads: fetching threads
MAX_THREADS = 256  # --threads may not be more: each thread holds a session and its buffers
WORKERS = 0  # --workers: extraction processes; 0 chooses by the machine and the scan
MAX_PAGES = 500  # --max-pages per site
MAX_DEPTH = 10  # --max-depth: links followed from the start page
MIN_COVERAGE = 0.15  # --min-coverage: least share of a source on a page for it to be a copy
TIMEOUT = 30.0  # --timeout: wall-clock seconds per page, every redirect and retry included
MAX_TIMEOUT = 3600.0  # --timeout may not be more (an hour a page; timers overflow past ~1e9 s)
ANALYSIS_DEADLINE = 60.0  # seconds one page's extraction, matching and checks may take
MAX_LINKS_PER_PAGE = 10_000  # links (and as many resources) kept per page, the article's first
MAX_PROFILE_KEYS = 200_000  # distinct lines (and as many links) a site profile counts
RECHECK_AFTER = 12 * 3600.0  # --recheck-after: seconds a fresh page of a crawled site is trusted
HISTORY_LIMIT = 20  # history --limit
DEMO_OUTPUT = "xpostcheck-demo-report.json"  # demo --output
EMAIL_FROM = "xpostcheck@localhost"  # email_from: the sender of notification mail
SMTP_SECURITY = "starttls"  # smtp_security: starttls | tls | none
NOTIFY_TIMEOUT = 30.0  # seconds an SMTP or webhook delivery may take
DISCOVER_PAGES = 10  # discover --pages-per-site: candidate pages listed per site
DISCOVER_MAX_SITES = 20_000  # discover --max-sites: referring sites counted at once
SEARCH_MAX_QUERIES = 50  # discover --max-queries: queries one search run may send, in all
SEARCH_PER_ARTICLE = 3  # discover --queries-per-article: distinctive sentences asked per article
SEARCH_INTERVAL = 1.0  # discover --search-interval: least seconds between two queries
SEARCH_RESULTS = 10  # result pages asked for per query
SEARCH_MAX_WAIT = 120.0  # a provider's Retry-After longer than this stops the search run
