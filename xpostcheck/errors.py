"""One base exception. Messages name the file, line or URL and say what to do."""

from __future__ import annotations

from xpostcheck.models import SkipCode


class XPostCheckError(Exception):
    """Base of every error xpostcheck raises on purpose. The CLI prints it in one line."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(XPostCheckError):
    """Bad flags or config file (exit 2)."""


class SourceError(XPostCheckError):
    """A sources file or feed cannot be read (exit 2)."""


class RuleError(XPostCheckError):
    """A rule file or pack is invalid or unknown (exit 2)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = None
        if path:
            where = f"{path}:{line}" if line else path
        super().__init__(message, where=where)


class FetchError(XPostCheckError):
    """One URL could not be fetched; the crawl lists it in `skipped` and goes on."""

    exit_code = 3

    def __init__(self, url: str, reason: str, code: SkipCode = SkipCode.OTHER) -> None:
        self.url = url
        self.reason = reason
        self.code = code  # what a crawl's Skipped record carries for this failure
        super().__init__(reason, where=url)


class ScanFailed(XPostCheckError):
    """The scan as a whole failed, for example every site unreachable (exit 3)."""

    exit_code = 3


class StoreError(XPostCheckError):
    """The database cannot be opened or migrated (exit 2)."""
