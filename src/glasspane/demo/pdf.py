"""Tiny real PDFs: the browser generates them, the document-service validates them,
the data-service reads their text (pure).

A generated PDF is a valid PDF 1.4 file (catalog, pages, one page, a font, one
content stream, an exact cross-reference table) that any viewer opens. The
reader checks what a document service would before accepting an upload: the
header, the end marker, that ``startxref`` points at the table and that every
entry points at its object; then it counts pages and collects the text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_OBJECTS = 1000  # the reader refuses cross-reference tables larger than this


class InvalidPdfError(Exception):
    """The upload is not a well-formed PDF; the message says what is broken."""


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    objects: int
    lines: tuple[str, ...]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (ASCII) in Helvetica."""
    text = "\n".join(
        f"BT /F1 11 Tf 56 {760 - 16 * i} Td ({_escape(line)}) Tj ET" for i, line in enumerate(lines)
    ).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def read_pdf(data: bytes) -> PdfInfo:
    """Validate the structure and read the text; InvalidPdfError says what is wrong."""
    if not data.startswith(b"%PDF-1."):
        raise InvalidPdfError("not a PDF: the file does not start with %PDF-1.x")
    if b"%%EOF" not in data[-64:]:
        raise InvalidPdfError("truncated PDF: no %%EOF marker at the end")
    found = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    if not found:
        raise InvalidPdfError("no startxref before %%EOF")
    xref = int(found.group(1))
    table = re.match(rb"xref\s+0 (\d+)\s+", data[xref : xref + 32])
    if not table:
        raise InvalidPdfError(f"startxref points at byte {xref}, where there is no xref table")
    count = int(table.group(1))
    if not 1 < count <= MAX_OBJECTS:
        raise InvalidPdfError(f"the xref table lists {count} objects")
    entries = data[xref + table.end() : xref + table.end() + 20 * count]
    for number in range(1, count):
        offset = int(entries[20 * number : 20 * number + 10] or b"0")
        if not data.startswith(b"%d 0 obj" % number, offset):
            raise InvalidPdfError(f"xref entry {number} points at byte {offset}, not at its object")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    if pages == 0:
        raise InvalidPdfError("the document has no pages")
    lines = tuple(
        m.group(1).decode("latin-1").replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\")
        for m in re.finditer(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", data)
    )
    return PdfInfo(pages=pages, objects=count - 1, lines=lines)


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def document_hash(data: bytes) -> str:
    """An IPFS-style content id of the bytes (``Qm...``: base58 of a sha2-256 multihash)."""
    number = int.from_bytes(b"\x12\x20" + hashlib.sha256(data).digest(), "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(_BASE58[digit])
    return "".join(reversed(digits))
