"""Scans as jobs on procrastinate workers: one job per site unit, a lock per host, a finishing
job, periodic scans. See docs/deploy.md and `xpostcheck.queue.jobs`."""
