"""WARC evidence: the exact HTTP response of every page that holds a copy, kept with warcio.

In: a Fetched. Out: an EvidenceRecord locating its WARC record, and the record's bytes back.
`WarcFolder` is the local `EvidenceArchive` (see store/base.py) that the SQLite store uses.

Each response is one gzip member in a per-scan `.warc.gz` file, so that any record can be
cut out by (offset, length) and any concatenation of records is itself a valid `.warc.gz`.
The WARC block is the HTTP header block as received followed by the body; block and payload
digests are SHA-256 (base32, as WARC tools expect), and the index row keeps the SHA-256 (hex)
of the stored gzip member so that a tampered or truncated file is noticed on export.

The body in `Fetched` has had its transfer and content encodings undone by the HTTP client.
When the received headers still announce such an encoding, the header line is kept but
renamed with the `X-Archive-Orig-` prefix (as web archives do), so that WARC readers do not
try to decode the body a second time. Nothing else in the header block changes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import brotli

from xpostcheck.errors import StoreError
from xpostcheck.models import Fetched
from xpostcheck.util.urls import redact_credentials, strip_credentials

__all__ = [
    "ArchivedResponse",
    "EvidenceRecord",
    "WarcFolder",
    "http_block",
    "read_record",
    "read_responses",
    "warc_record",
    "write_response",
]

_REASONS = {
    200: "OK",
    203: "Non-Authoritative Information",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    410: "Gone",
}


@dataclass(frozen=True)
class EvidenceRecord:
    """Where one WARC record lives: a file (relative to the evidence folder) and a byte range."""

    file: str
    offset: int
    length: int
    sha256: str  # hex digest of the stored bytes (the gzip member)
    payload_sha256: str  # hex digest of the HTTP body
    record_id: str


def _still_encoded(body: bytes, coding: str) -> bool:
    """Whether `body` is still in content coding `coding` (so its header describes it)."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return True
    try:
        if coding in ("gzip", "x-gzip"):
            gzip.decompress(body)
        elif coding == "deflate":
            try:
                zlib.decompress(body)
            except zlib.error:
                zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding == "br":
            brotli.decompress(body)
        else:
            return True  # an unknown coding: assume the body is as received
    except Exception:
        return False
    return True


def _is_chunked(body: bytes) -> bool:
    """Whether `body` still has chunked transfer framing (clients normally remove it)."""
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return False
        try:
            size = int(body[pos:end].split(b";")[0].strip(), 16)
        except ValueError:
            return False
        pos = end + 2 + size + 2
        if size == 0:
            return pos <= len(body) + 2
        if pos > len(body):
            return False


def _header_lines(fetched: Fetched) -> list[bytes]:
    if fetched.raw_headers_block:
        block = fetched.raw_headers_block
        lines = block.split(b"\r\n") if b"\r\n" in block else block.split(b"\n")
        return [line for line in lines if line]
    reason = _REASONS.get(fetched.status, "")
    lines = [f"HTTP/1.1 {fetched.status} {reason}".rstrip().encode("latin-1")]
    for name, value in fetched.headers:
        lines.append(f"{name}: {value}".encode("latin-1", errors="replace"))
    return lines


def http_block(fetched: Fetched) -> bytes:
    """The HTTP header block for the WARC record: as received (or rebuilt from status and
    headers when the fetcher kept no raw block), with encodings already undone renamed and
    any `user:password@` of a URL in a header (a Location) cut out."""
    out = []
    renamed = False
    for i, line in enumerate(_header_lines(fetched)):
        if b"@" in line:
            line = redact_credentials(line.decode("latin-1")).encode("latin-1")
        if i > 0 and b":" in line:
            name, _, value = line.partition(b":")
            low = name.strip().lower()
            text = value.decode("latin-1").strip()
            undone = (low == b"content-encoding" and not _still_encoded(fetched.body, text)) or (
                low == b"transfer-encoding"
                and "chunked" in text.lower()
                and not _is_chunked(fetched.body)
            )
            if undone:
                line = b"X-Archive-Orig-" + line.lstrip()
                renamed = True
        out.append(line)
    if renamed:  # the received Content-Length described the encoded body
        out = [
            b"X-Archive-Orig-" + line if line.lower().startswith(b"content-length:") else line
            for line in out
        ]
    return b"\r\n".join(out) + b"\r\n\r\n"


def _b32(digest: bytes) -> str:
    return "sha256:" + base64.b32encode(digest).decode("ascii")


def warc_record(fetched: Fetched) -> tuple[bytes, str, str]:
    """One WARC response record for `fetched`, as a gzip member: (bytes, SHA-256 of the HTTP
    body in hex, WARC-Record-ID)."""
    from warcio.recordloader import ArcWarcRecord
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    head = http_block(fetched)
    block = head + fetched.body
    payload_hex = hashlib.sha256(fetched.body).hexdigest()
    record_id = f"<urn:uuid:{_uuid_for(fetched, payload_hex)}>"
    warc_headers = StatusAndHeaders(
        "",
        [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(fetched.fetched_at)),
            ("WARC-Target-URI", strip_credentials(fetched.final_url)),
            ("WARC-Block-Digest", _b32(hashlib.sha256(block).digest())),
            ("WARC-Payload-Digest", _b32(bytes.fromhex(payload_hex))),
            ("Content-Type", "application/http; msgtype=response"),
        ],
        protocol="WARC/1.1",
    )
    record = ArcWarcRecord(
        "warc",
        "response",
        warc_headers,
        io.BytesIO(block),
        None,
        "application/http; msgtype=response",
        len(block),
    )
    buf = io.BytesIO()
    WARCWriter(buf, gzip=True, warc_version="1.1").write_record(record)
    return buf.getvalue(), payload_hex, record_id


def write_response(folder: Path, filename: str, fetched: Fetched) -> EvidenceRecord:
    """Append one WARC response record for `fetched` to `folder/filename`."""
    data, payload_hex, record_id = warc_record(fetched)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / filename, "ab") as fh:
            offset = fh.tell()
            fh.write(data)
    except OSError as exc:
        raise StoreError(
            f"cannot write WARC evidence ({exc.strerror or exc}); check the folder's permissions",
            where=str(folder / filename),
        ) from None
    return EvidenceRecord(
        file=filename,
        offset=offset,
        length=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        payload_sha256=payload_hex,
        record_id=record_id,
    )


def read_record(folder: Path, rec: EvidenceRecord) -> bytes:
    """The stored bytes of one record (a gzip member), checked against its SHA-256."""
    path = folder / rec.file
    try:
        with open(path, "rb") as fh:
            fh.seek(rec.offset)
            data = fh.read(rec.length)
    except OSError as exc:
        raise StoreError(
            f"cannot read WARC evidence ({exc.strerror or exc}); was the evidence folder moved?",
            where=str(path),
        ) from None
    if len(data) != rec.length or hashlib.sha256(data).hexdigest() != rec.sha256:
        raise StoreError(
            f"WARC record at offset {rec.offset} does not match its recorded SHA-256; "
            "the evidence file was changed or truncated after it was written",
            where=str(path),
        )
    return data


class WarcFolder:
    """The local evidence archive: a folder with one `scan-NNNNNN.warc.gz` per scan, records
    appended as they come and read back by (file, offset, length), checked by SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, scan_id: int, fetched: Fetched) -> EvidenceRecord:
        return write_response(self.folder, f"scan-{scan_id:06d}.warc.gz", fetched)

    def read(self, record: EvidenceRecord) -> bytes:
        return read_record(self.folder, record)


@dataclass(frozen=True)
class ArchivedResponse:
    """One response record read back from a WARC blob."""

    target_uri: str
    date: str  # WARC-Date: when the page was fetched
    status: int
    header_block: bytes  # the HTTP header block, as stored
    body: bytes  # the body, as stored (not decoded again)
    payload_digest: str


def read_responses(blob: bytes) -> list[ArchivedResponse]:
    """The response records in a .warc or .warc.gz blob (as `Store.evidence` returns), in
    order. Raises StoreError when the blob is not a readable WARC."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    out = []
    try:
        for record in ArchiveIterator(io.BytesIO(blob), no_record_parse=True):
            if record.rec_type != "response":
                continue
            block: bytes = record.raw_stream.read()
            end = block.find(b"\r\n\r\n")
            head, body = (block[: end + 4], block[end + 4 :]) if end >= 0 else (block, b"")
            first = head.split(b"\r\n", 1)[0].split()
            status = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
            out.append(
                ArchivedResponse(
                    target_uri=record.rec_headers.get_header("WARC-Target-URI") or "",
                    date=record.rec_headers.get_header("WARC-Date") or "",
                    status=status,
                    header_block=head,
                    body=body,
                    payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
                )
            )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise StoreError(f"not a readable WARC: {exc}", where="evidence") from None
    return out


def _warc_date(fetched_at: str) -> str:
    """WARC-Date wants UTC with a Z; fetch times are ISO 8601 UTC, maybe with +00:00."""
    text = fetched_at.strip()
    if text.endswith("+00:00"):
        text = text[: -len("+00:00")] + "Z"
    elif text and not text.endswith("Z"):
        text += "Z"
    return text or "1970-01-01T00:00:00Z"


def _uuid_for(fetched: Fetched, payload_hex: str) -> str:
    """A stable record id from what was fetched, so re-runs of a test write identical bytes."""
    import uuid

    name = f"{fetched.final_url}\n{fetched.fetched_at}\n{payload_hex}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))
