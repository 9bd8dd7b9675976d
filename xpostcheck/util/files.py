"""Files the user asks for (reports, evidence, notices): a check that a path can be written
before any work is done, and a write that never destroys what the path names.

- A regular file (or a path that does not exist yet) is replaced atomically: a temporary file
  in the same folder, then a rename. Readers see the old file or the new one.
- `-` is standard output.
- A character or block device, a FIFO, a socket, and `/dev/stdout`, `/dev/stderr`,
  `/dev/fd/N` or `/proc/self/fd/N` (named directly or through symlinks) are written in place:
  never unlinked, never renamed over (`-o /dev/null` run as root must not replace the
  machine's /dev/null).

Also: `clean_stale` removes temporary files a killed process left behind.

In: a path and the text or bytes to put there. Out: the file; XPostCheckError (exit 2) from
`check_writable`, OSError from the writes.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path

from xpostcheck.errors import XPostCheckError

log = logging.getLogger(__name__)

__all__ = [
    "STALE_AFTER",
    "check_writable",
    "clean_stale",
    "scan_tempdir",
    "write_atomic",
    "write_output",
]

STDOUT = "-"

# A temporary file untouched for this long belongs to no running write (a write keeps its file's
# modification time fresh); a killed process's leftovers are older.
STALE_AFTER = 600.0

# Temporary folders of a scan are named after the process that owns them, so that a later scan
# can tell a dead process's leftovers from a running scan's.
_TEMP_PREFIX = "xpostcheck-"
_OWNED_TEMP = re.compile(r"xpostcheck-(\d+)-")

_FD_PATH = re.compile(r"/(?:dev/fd|proc/(?:self|thread-self|(\d+))/fd)/(\d+)")
_STD_PATHS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _fd_named(path: str) -> int | None:
    """The descriptor of this process that `path` names (/dev/stdout, /dev/fd/N,
    /proc/self/fd/N, directly or through a chain of symlinks), or None."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on symlink hops
        if current in _STD_PATHS:
            return _STD_PATHS[current]
        found = _FD_PATH.fullmatch(current)
        if found and (found.group(1) is None or int(found.group(1)) == os.getpid()):
            return int(found.group(2))
        try:
            link = os.readlink(current)
        except OSError:
            return None  # not a symlink (or gone): a plain path
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return None


def _kind(path: str) -> str:
    """'stdout', 'fd', 'missing', 'file', 'folder' or 'special' (device, FIFO, socket)."""
    if path == STDOUT:
        return "stdout"
    if _fd_named(path) is not None:
        return "fd"
    try:
        mode = os.stat(path).st_mode  # through symlinks: what a write would reach
    except OSError:  # not there, or its folder is not one (check_writable says which)
        return "missing"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special"


def check_writable(path: str, what: str) -> None:
    """Fail now, before any work, when `path` cannot be written (XPostCheckError, exit 2).
    `what` names the file in the message ("report", "evidence")."""

    def cannot(why: str) -> XPostCheckError:
        return XPostCheckError(f"cannot write the {what} here: {why}", where=path)

    kind = _kind(path)
    if kind == "stdout":
        return
    if kind == "fd":
        fd = _fd_named(path)
        assert fd is not None
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            raise cannot(f"descriptor {fd} is not open; give a file instead") from None
        if flags & os.O_ACCMODE == os.O_RDONLY:
            raise cannot(f"descriptor {fd} is open for reading only; give a file instead")
        return
    if kind == "folder":
        raise cannot("it is a folder")
    if kind == "special":  # written in place: the device, FIFO or socket must let us write
        if not os.access(path, os.W_OK):
            raise cannot("permission denied")
        return
    target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    folder = target.parent
    if not folder.exists():
        raise cannot(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise cannot(f"{folder} is not a folder")
    if kind == "file" and not os.access(target, os.W_OK):
        raise cannot("the file is read-only")
    try:  # the same kind of file the write itself will make, to be sure
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot(exc.strerror or str(exc)) from None
    os.close(fd)
    os.unlink(probe)


def _as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_output(path: str, data: str | bytes) -> None:
    """Put `data` where the user asked: `-` is stdout; a regular file (or a new path) is
    replaced atomically (`write_atomic`); a device, FIFO, socket or descriptor path is written
    in place and stays what it was. Text is written as UTF-8. Raises OSError as they come."""
    kind = _kind(path)
    if kind == "stdout":
        if isinstance(data, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
    elif kind == "fd":
        fd = _fd_named(path)
        assert fd is not None
        if fd in (1, 2):
            (sys.stdout if fd == 1 else sys.stderr).flush()
        _write_all(fd, _as_bytes(data))  # the descriptor as the caller's shell set it up
    elif kind == "special":
        _write_in_place(path, _as_bytes(data))
    else:
        write_atomic(path, data)


def _write_in_place(path: str, data: bytes) -> None:
    """A device, FIFO or socket: opened and written, never replaced. A FIFO waits for its
    reader, as `cat > fifo` does."""
    if stat.S_ISSOCK(os.stat(path).st_mode):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(data)
        return
    fd = os.open(path, os.O_WRONLY)  # no O_TRUNC, no O_CREAT: what is there stays there
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a temporary file in the target's folder, then rename it over the target: readers
    see the old file or the new one, never part of one, and a failure leaves no trace.
    Text is written as UTF-8. Keeps an existing file's permissions. Only a regular file is
    ever replaced: anything else (a device, a FIFO, /dev/stdout) is written in place.
    Raises OSError (and encoding errors) as they come."""
    if path != STDOUT and _kind(path) in ("fd", "special"):
        write_output(path, data)
        return
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(path))  # write through the link, not over it
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with open(fd, "wb") as out:
            out.write(_as_bytes(data))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scan_tempdir() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder named after this process (`xpostcheck-<pid>-...`), so that
    `clean_stale` can tell a dead process's leftovers from a running scan's."""
    return tempfile.TemporaryDirectory(prefix=f"{_TEMP_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def clean_stale(beside: list[str], *, now: float | None = None) -> list[str]:
    """Remove what killed processes left behind, and return the paths removed:
    - the temporary files of atomic writes (`.<name>.*.tmp`) beside each path of `beside`
      (the index, the report), when untouched for `STALE_AFTER` seconds;
    - `xpostcheck-<pid>-*` folders of this user in the temporary folder whose process is dead.
    A running write or scan is never touched. Failures to remove are ignored (best effort)."""
    now = time.time() if now is None else now
    removed: list[str] = []
    for path in beside:
        if not path or path == STDOUT or "://" in path:
            continue
        target = Path(path)
        try:
            candidates = list(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))
        except OSError:
            continue
        for tmp in candidates:
            try:
                info = tmp.lstat()
                if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_AFTER:
                    tmp.unlink()
                    removed.append(str(tmp))
            except OSError:
                continue
    root = Path(tempfile.gettempdir())
    try:
        folders = list(root.glob(f"{_TEMP_PREFIX}*"))
    except OSError:
        folders = []
    for folder in folders:
        owner = _OWNED_TEMP.match(folder.name)
        try:
            info = folder.lstat()
        except OSError:
            continue
        if (
            owner is None
            or not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.getuid()
            or _alive(int(owner.group(1)))
        ):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(str(folder))
    for path in removed:
        log.info("removed %s, left behind by a process that was killed", path)
    return removed
