"""Special files the output tests write to (`from devices import null_device`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

__all__ = ["null_device"]


def null_device(folder: Path) -> Path:
    """A character device like /dev/null (1, 3) made in `folder`. Skipped, with why, only where
    mknod is not allowed and CI is not set: CI runs as root and must exercise it."""
    path = folder / "nulldev"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("mknod needs root (CAP_MKNOD) here; CI runs this test as root")
    return path
