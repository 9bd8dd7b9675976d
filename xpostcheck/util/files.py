"""Files written whole or not at all: a check that a path can be written before any work is
done, and an atomic write (temporary file in the same folder, then a rename).

In: a path and the text or bytes to put there. Out: the file; XPostCheckError (exit 2) from
`check_writable`, OSError from `write_atomic`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from xpostcheck.errors import XPostCheckError

__all__ = ["check_writable", "write_atomic"]


def check_writable(path: str, what: str) -> None:
    """Fail now, before any work, when `path` cannot be written (XPostCheckError, exit 2).
    `what` names the file in the message ("report", "evidence")."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(path))
    folder = target.parent

    def cannot(why: str) -> XPostCheckError:
        return XPostCheckError(f"cannot write the {what} here: {why}", where=path)

    if not folder.exists():
        raise cannot(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise cannot(f"{folder} is not a folder")
    if target.is_dir():
        raise cannot("it is a folder")
    if target.exists() and not os.access(target, os.W_OK):
        raise cannot("the file is read-only")
    try:  # the same kind of file the write itself will make, to be sure
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot(exc.strerror or str(exc)) from None
    os.close(fd)
    os.unlink(probe)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a temporary file in the target's folder, then rename it over the target: readers
    see the old file or the new one, never part of one, and a failure leaves no trace.
    Text is written as UTF-8. Keeps an existing file's permissions. Raises OSError (and
    encoding errors) as they come."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(path))  # write through the link, not over it
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if isinstance(data, bytes):
            with open(fd, "wb") as binary:
                binary.write(data)
                binary.flush()
                os.fsync(binary.fileno())
        else:
            with open(fd, "w", encoding="utf-8") as text:
                text.write(data)
                text.flush()
                os.fsync(text.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
