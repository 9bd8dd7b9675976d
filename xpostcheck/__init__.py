"""xpostcheck: find republished copies of articles and check them against cross-post rules."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("xpostcheck")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+src"

PROJECT_URL = "https://github.com/xpostcheck/xpostcheck"
