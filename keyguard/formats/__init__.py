"""File formats whose bytes are not what the engine should read as they are: archives (opened in
memory, member by member) and Jupyter notebooks (JSON whose cells are the text). Pure: no I/O.

`kind_of` is what the scan driver asks of every blob, so it only looks at a few bytes at fixed
offsets and at the path's suffix: a tree with no archive and no notebook pays nothing for them.
Content decides, not the name (a history audit scans blobs before it knows their paths, and a
`.jar`, `.whl` or `.apk` is a zip whatever it is called).
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["zip", "gzip", "tar", "notebook"]

ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
TAR_MAGIC = b"ustar"  # POSIX and GNU tar headers both start so at offset 257
TAR_MAGIC_AT = 257
# nbformat 4 writes its keys sorted, so `"cells"` opens the document; `"nbformat"` comes after
# the cells, at its end.
_NOTEBOOK_HEAD = 256


def archive_kind(data: bytes) -> Kind | None:
    """The archive format `data` is in, by its magic bytes, or None."""
    # Short slices compared: faster than startswith (a method call) on CPython 3.11; most
    # files cost three comparisons here and one more in is_notebook.
    head = data[:4]
    if head == ZIP_MAGIC:
        return "zip"
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if data[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == TAR_MAGIC:
        return "tar"
    return None


def is_notebook(data: bytes, path: str | None) -> bool:
    """Whether `data` should be read as a notebook: an `.ipynb` path, or a JSON object that
    opens with "cells" and names its "nbformat" (the only way to tell at "any path")."""
    if path is not None and path.endswith(".ipynb"):
        return True
    first = data[:1]
    if first != b"{" and not first.isspace():
        return False  # nearly every file: decided here
    head = data[:_NOTEBOOK_HEAD]
    return head.lstrip()[:1] == b"{" and b'"cells"' in head and b'"nbformat"' in data


def kind_of(data: bytes, path: str | None) -> Kind | None:
    """What to open `data` as before scanning it, or None for the engine to read it as it is."""
    kind = archive_kind(data)
    if kind is not None:
        return kind
    return "notebook" if is_notebook(data, path) else None
