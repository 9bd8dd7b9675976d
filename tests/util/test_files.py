"""util.files: a regular file is replaced whole; a device, FIFO, socket or descriptor path is
written in place and stays what it was; stale leftovers of killed processes are removed, a
running process's never."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from devices import null_device

from xpostcheck.errors import XPostCheckError
from xpostcheck.util.files import (
    STALE_AFTER,
    check_writable,
    clean_stale,
    scan_tempdir,
    write_atomic,
    write_output,
)


def test_a_character_device_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    device = null_device(tmp_path)
    check_writable(str(device), "report")  # no temporary file in the folder needed
    write_output(str(device), '{"report": 1}\n')
    write_atomic(str(device), b"bytes too\n")  # even the atomic write leaves a device be
    assert stat.S_ISCHR(device.stat().st_mode)
    assert device.stat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nulldev"]  # no temporary file left


def _read_all(path: Path, got: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as fifo:
            got.append(fifo.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_reaches_its_reader_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    check_writable(str(fifo), "report")  # does not open it (that would wait for a reader)
    got: list[bytes] = []
    reader = _read_all(fifo, got)
    write_output(str(fifo), "report ✓\n")
    reader.join(timeout=30)
    assert got == ["report ✓\n".encode()]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    # Through a symlink: the link and the FIFO both stay.
    link = tmp_path / "link"
    link.symlink_to(fifo)
    reader = _read_all(fifo, got)
    write_output(str(link), b"again\n")
    reader.join(timeout=30)
    assert got[1] == b"again\n"
    assert link.is_symlink() and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_unix_socket_receives_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    got: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                got.append(b"".join(chunks))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        check_writable(str(path), "report")
        write_output(str(path), "over a socket\n")
        thread.join(timeout=30)
    assert got == [b"over a socket\n"]
    assert stat.S_ISSOCK(path.stat().st_mode)


def test_descriptor_paths_write_to_the_descriptor(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        link = tmp_path / "out"
        link.symlink_to(f"/proc/self/fd/{write_end}")
        for path in (f"/proc/self/fd/{write_end}", f"/dev/fd/{write_end}", str(link)):
            check_writable(path, "report")
            write_output(path, f"via {path}\n")
            assert os.read(read_end, 4096) == f"via {path}\n".encode()
        assert link.is_symlink()
        assert os.readlink(link) == f"/proc/self/fd/{write_end}"
        with pytest.raises(XPostCheckError) as error:
            check_writable(f"/dev/fd/{read_end}", "report")
        assert str(error.value) == (
            f"/dev/fd/{read_end}: cannot write the report here: descriptor {read_end} is open "
            "for reading only; give a file instead"
        )
    finally:
        os.close(read_end)
        os.close(write_end)
    with pytest.raises(XPostCheckError) as error:
        check_writable(f"/proc/self/fd/{write_end}", "report")
    assert str(error.value) == (
        f"/proc/self/fd/{write_end}: cannot write the report here: descriptor {write_end} is "
        "not open; give a file instead"
    )


def test_dev_stdout_in_a_child_reaches_its_pipe() -> None:
    code = (
        "from xpostcheck.util.files import check_writable, write_output\n"
        "check_writable('/dev/stdout', 'report')\n"
        "write_output('/dev/stdout', 'to stdout\\n')\n"
        "write_output('/dev/stderr', b'to stderr\\n')\n"
    )
    before = os.path.islink("/dev/stdout")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=True)
    assert out.stdout == b"to stdout\n"
    assert out.stderr == b"to stderr\n"
    assert os.path.islink("/dev/stdout") == before


def test_a_regular_file_and_a_symlink_to_one_are_replaced_atomically(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_output(str(link), "new")
    assert link.is_symlink() and real.read_text() == "new"
    fresh = tmp_path / "fresh.json"
    write_output(str(fresh), b"bytes")
    assert fresh.read_bytes() == b"bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.json", "link.json", "real.json"]


def test_check_writable_refuses_a_folder_and_an_unwritable_device(tmp_path: Path) -> None:
    with pytest.raises(XPostCheckError, match="cannot write the report here: it is a folder"):
        check_writable(str(tmp_path), "report")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o400)
    if os.access(fifo, os.W_OK):  # root may write anything
        return
    with pytest.raises(XPostCheckError) as error:
        check_writable(str(fifo), "report")
    assert str(error.value) == f"{fifo}: cannot write the report here: permission denied"


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(child.stdout)


def test_clean_stale_removes_leftovers_of_dead_processes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    data = tmp_path / "data"
    data.mkdir()
    index = data / "scans.db.index"
    old_tmp = data / ".scans.db.index.abc123.tmp"
    new_tmp = data / ".scans.db.index.def456.tmp"
    other = data / ".other.abc.tmp"
    for path in (old_tmp, new_tmp, other):
        path.write_bytes(b"x" * 100)
    past = time.time() - STALE_AFTER - 60
    os.utime(old_tmp, (past, past))
    os.utime(other, (past, past))
    dead = temp / f"xpostcheck-{_dead_pid()}-zz"
    (dead / "index").mkdir(parents=True)
    unnamed = temp / "xpostcheck-demo-abc"  # no owner in its name: never touched
    unnamed.mkdir()
    with scan_tempdir() as running:  # this process's own: alive
        assert Path(running).name.startswith(f"xpostcheck-{os.getpid()}-")
        removed = clean_stale([str(index), ""])
        assert sorted(removed) == sorted([str(old_tmp), str(dead)])
        assert Path(running).is_dir()
    assert new_tmp.exists() and other.exists() and unnamed.exists()
    assert not old_tmp.exists() and not dead.exists()
