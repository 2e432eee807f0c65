"""A printable one-page PDF summary, written by hand: text lines in Helvetica and, optionally, a JPEG snapshot.

No PDF library fits here (the well-kept ones pull fonts and image stacks this needs none of): a text page and one
embedded JPEG (``DCTDecode``: the JPEG bytes go in as they are) are a few objects and a cross-reference table.
Text is Latin-1 (WinAnsi); other characters become ``?``.

>>> pdf = summary_pdf("Incident inc-1", ["state: open", "store: s1"])
>>> pdf[:8], pdf.rstrip().endswith(b"%%EOF")
(b'%PDF-1.4', True)
"""

from __future__ import annotations

import textwrap

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 50
LEADING = 13


def _text(s: str) -> bytes:
    latin = s.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + latin + b")"


def summary_pdf(
    title: str, lines: list[str], jpeg: bytes | None = None, jpeg_size: tuple[int, int] | None = None
) -> bytes:
    """One A4 page: ``title``, the ``lines`` (wrapped), and the JPEG (``jpeg_size`` = its width, height) below."""
    wrapped = [w for line in lines for w in (textwrap.wrap(line, 95) or [""])]
    y = PAGE_H - MARGIN
    ops = [b"BT /F1 16 Tf", f"{MARGIN} {y} Td".encode(), _text(title) + b" Tj", b"ET"]
    y -= 28
    for line in wrapped:
        if y < MARGIN + (260 if jpeg else 0):
            break
        ops += [b"BT /F1 10 Tf", f"{MARGIN} {y} Td".encode(), _text(line) + b" Tj", b"ET"]
        y -= LEADING
    resources = b"<< /Font << /F1 4 0 R >> >>"
    image_obj: bytes | None = None
    if jpeg is not None and jpeg_size is not None:
        w, h = jpeg_size
        scale = min((PAGE_W - 2 * MARGIN) / w, 240 / h)
        ops += [f"q {w * scale:.1f} 0 0 {h * scale:.1f} {MARGIN} {MARGIN} cm /Im1 Do Q".encode()]
        resources = b"<< /Font << /F1 4 0 R >> /XObject << /Im1 6 0 R >> >>"
        image_obj = (
            f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB "
            f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n".encode()
            + jpeg
            + b"\nendstream"
        )
    content = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources %s /Contents 5 0 R >>"
        % (PAGE_W, PAGE_H, resources),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    if image_obj is not None:
        objects.append(image_obj)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
