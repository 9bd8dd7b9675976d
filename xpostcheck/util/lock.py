"""One writer at a time: an exclusive OS file lock (flock) on a `<file>.lock` beside a file.

In: the path of the file to guard, whether to wait, and what to call once while waiting.
Out: a held `FileLock` (released by `release`, or by the kernel when the process dies, even
by kill -9), or `LockBusy` (exit 3) when another process holds it and waiting was refused.
The lock file is never deleted: deleting it would let two processes lock two different files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from xpostcheck.errors import XPostCheckError

__all__ = ["FileLock", "LockBusy", "lock_path"]


class LockBusy(XPostCheckError):
    """Another process holds the lock and the caller would not wait (exit 3)."""

    exit_code = 3


def lock_path(path: str | Path) -> Path:
    """The lock file that guards `path`."""
    return Path(f"{path}.lock")


class FileLock:
    """An exclusive lock on `<path>.lock`, held by this open file until `release`."""

    def __init__(self, path: str | Path, fd: int) -> None:
        self.path = Path(path)
        self._fd: int | None = fd

    @classmethod
    def acquire(
        cls,
        path: str | Path,
        *,
        wait: bool = True,
        what: str = "file",
        on_wait: Callable[[str], None] | None = None,
    ) -> FileLock:
        """Lock `path` (through `<path>.lock`). When another process holds it: with `wait`,
        call `on_wait(message)` once and block until it is free; else raise LockBusy."""
        target = lock_path(path)
        try:
            fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise XPostCheckError(
                f"cannot create the lock file {target} ({exc.strerror or exc}); make the folder "
                "writable or choose another path",
                where=str(path),
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                by = f" (pid {holder})" if holder else ""
                if not wait:
                    raise LockBusy(
                        f"another scan of this {what} is running{by}; run again when it has "
                        "finished, or leave out --no-wait to wait for it",
                        where=str(path),
                    ) from None
                if on_wait is not None:
                    on_wait(f"waiting for another scan of {path} to finish{by} ...")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the lock up (the lock file stays); a second call does nothing."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the only descriptor releases the flock

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int) -> int | None:
    """The pid the holder wrote into the lock file, if it did."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
