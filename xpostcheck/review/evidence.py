"""Pages as they were seen: a copy's archived response read back from the evidence archive and
decoded, for the report (page texts of unchanged pages) and for notices (contact links); and
the exported WARC files, one per export, named by the page and never overwritten.

In: a Store and a URL; WARC bytes and a folder. Out: the page's HTML as text, or None when
nothing was archived; the path of a new file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from xpostcheck.net.decode import decode_body
from xpostcheck.store import Store
from xpostcheck.store.evidence import read_responses

__all__ = ["archived_html", "evidence_name", "write_new", "write_numbered"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 100


def evidence_name(url: str) -> str:
    """The file name an export of `url` gets: host, port and path, made safe for every file
    system (`blog.example_posts_harbor.html.warc.gz`); a query, or a name too long, adds a
    short digest so that two pages never share a name."""
    parts = urlsplit(url)
    stem = parts.hostname or "evidence"
    if parts.port:
        stem += f"_{parts.port}"
    path = parts.path.strip("/")
    if path:
        stem += "_" + path.replace("/", "_")
    if parts.query:
        stem += "_" + hashlib.sha256(parts.query.encode()).hexdigest()[:8]
    stem = _UNSAFE.sub("-", stem).strip("-.") or "evidence"
    if len(stem) > _MAX_STEM:
        stem = stem[: _MAX_STEM - 9] + "-" + hashlib.sha256(url.encode()).hexdigest()[:8]
    return stem + ".warc.gz"


def write_new(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` whole, only if no file is there: a temporary file in the same
    folder is linked to the name, which fails (FileExistsError) rather than replace a file,
    even one that appeared a moment ago. Raises OSError as they come."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".xpostcheck-", suffix=".part", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, target)
    finally:
        os.unlink(tmp)


def write_numbered(folder: str | Path, name: str, data: bytes, *, tries: int = 1000) -> Path:
    """Write `data` as `name` in `folder`, or as `name-2`, `name-3`... (before the extension)
    when that is taken: an export never overwrites an earlier one. Returns the path written."""
    base = name.removesuffix(".warc.gz")
    ext = name[len(base) :]
    for n in range(1, tries + 1):
        candidate = Path(folder) / (name if n == 1 else f"{base}-{n}{ext}")
        try:
            write_new(candidate, data)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{Path(folder) / name} and {tries - 1} numbered names are taken")


def archived_html(store: Store, url: str) -> str | None:
    """The page at `url` as it was archived when its copy was last seen, decoded."""
    blob = store.evidence(url)
    if not blob:
        return None
    responses = read_responses(blob)
    if not responses:
        return None
    head = responses[0].header_block.decode("latin-1")
    content_type = next(
        (
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("content-type:")
        ),
        None,
    )
    return decode_body(responses[0].body, content_type)[0]
