"""Archives opened in memory, member by member: zip (and the zips called jar, whl, apk, ...),
tar, gzip (tar.gz, tgz, or one gzipped file), and `docker save` images (a tar of layer tars,
each opened in turn). Pure: nothing is extracted, nothing touches the file system.

Archives come from the repository being scanned, which may be hostile, so every way an archive
can make a scan slow or big has a limit, and what a limit stops is named, never followed:

- nesting depth (an archive in an archive ...): past it, "archive too deep";
- members, over all nesting levels: past the count, "too many members";
- bytes inflated, over all members: past the total, "archive limit";
- one member's inflated size: the scan's own size cap ("too large");
- a member that inflates more than `max_ratio` times its compressed size (past `ratio_floor`
  bytes, so small files that compress well are not called bombs): "archive bomb", told from
  the sizes a zip declares before anything is inflated, and for gzip while it inflates.

Member names are data: `../` and absolute names are fine here (they only name what was read)
and are made printable for reports. Links and devices are named and skipped: a link's target is
another member or a place outside the archive, neither of which is its content.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from keyguard.formats import TAR_MAGIC, TAR_MAGIC_AT, archive_kind

_CHUNK = 1 << 16  # compressed bytes fed to zlib at a time: the bomb check runs between chunks
_GUNZIPPED = "(gunzipped)"  # the member name of a gzip stream that names no file
UNREADABLE = "unreadable archive"


@dataclass(frozen=True, slots=True)
class Limits:
    max_member: int  # one member's inflated size: the scan's max file size
    max_depth: int = 3  # archives opened inside one another, the outermost included
    max_members: int = 10_000
    max_total: int = 256 << 20  # bytes inflated from one blob, all members and levels together
    max_ratio: int = 100
    ratio_floor: int = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """A member's content, to scan as a file."""

    name: str  # from the outermost archive, levels joined by "!": "layer.tar!etc/app/.env"
    path: str  # its path in the innermost archive, which decides path-limited rules
    data: bytes


@dataclass(frozen=True, slots=True)
class Passed:
    """Something in the archive that was not scanned, and why (a skip reason)."""

    name: str  # as Member.name; "" for the archive itself
    reason: str
    detail: str


@dataclass(slots=True)
class _Budget:
    members: int = 0
    inflated: int = 0


class _Stop(Exception):
    """A limit for the whole blob was reached: no more members are read."""

    def __init__(self, passed: Passed) -> None:
        super().__init__(passed.reason)
        self.passed = passed


# The stdlib's readers raise a zoo of exceptions on hostile bytes (BadZipFile, TarError,
# EOFError, zlib.error, struct errors, ValueError, NotImplementedError for an unknown
# compression, RuntimeError for encryption, ...): at this boundary any of them means "unreadable",
# never a traceback. KeyboardInterrupt is not an Exception and still stops the scan.
_HOSTILE = Exception


def members(data: bytes, limits: Limits) -> Iterator[Member | Passed]:
    """Every member of the archive in `data` (nested archives opened), or what stopped it.

    If `data` cannot be opened as the archive its magic bytes promise, the only item is a
    `Passed("", UNREADABLE, ...)`: the caller then reads it as it would any other file.
    """
    budget = _Budget()
    try:
        yield from _open(data, "", 1, limits, budget)
    except _Stop as stop:
        yield stop.passed


def safe_name(name: str) -> str:
    """A member name as reports may show it: forward slashes, every character str.isprintable()
    refuses escaped (controls, bidi overrides), and bytes that were not UTF-8 (surrogate
    escapes, as tarfile decodes them) shown as \\xNN."""
    name = name.replace("\\", "/")
    if name.isprintable():
        return name
    out: list[str] = []
    for char in name:
        code = ord(char)
        if char.isprintable():
            out.append(char)
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _open(
    data: bytes, prefix: str, depth: int, limits: Limits, budget: _Budget
) -> Iterator[Member | Passed]:
    kind = archive_kind(data)
    if kind == "zip":
        raw = _zip(data, prefix, limits, budget)
    elif kind == "tar":
        raw = _tar(data, prefix, limits, budget)
    else:
        raw = _gzip(data, prefix, limits, budget)
    for item in raw:
        if isinstance(item, Passed) or archive_kind(item.data) is None:
            yield item
        elif depth >= limits.max_depth:
            yield Passed(item.name, "archive too deep", f"nested over {limits.max_depth} deep")
        else:
            yield from _nested(item, depth, limits, budget)


def _nested(item: Member, depth: int, limits: Limits, budget: _Budget) -> Iterator[Member | Passed]:
    inner = _open(item.data, item.name + "!", depth + 1, limits, budget)
    first = next(inner, None)
    if isinstance(first, Passed) and first.name == item.name and first.reason == UNREADABLE:
        # Not the archive its first bytes promised: scanned as the file it is.
        yield item
        return
    if first is not None:
        yield first
        yield from inner


def _bad(prefix: str, exc: BaseException) -> Passed:
    return Passed(prefix.removesuffix("!"), UNREADABLE, f"{type(exc).__name__}: {exc}"[:200])


def _count(prefix: str, limits: Limits, budget: _Budget) -> None:
    budget.members += 1
    if budget.members > limits.max_members:
        raise _Stop(
            Passed(
                prefix.removesuffix("!"),
                "too many members",
                f"over {limits.max_members} members: the rest were not read",
            )
        )


def _take(prefix: str, size: int, limits: Limits, budget: _Budget) -> None:
    if budget.inflated + size > limits.max_total:
        raise _Stop(
            Passed(
                prefix.removesuffix("!"),
                "archive limit",
                f"over {limits.max_total >> 20} MB inflated: the rest was not read",
            )
        )
    budget.inflated += size


def _is_bomb(inflated: int, compressed: int, limits: Limits) -> bool:
    return inflated > limits.ratio_floor and inflated > limits.max_ratio * max(compressed, 1)


def _zip(data: bytes, prefix: str, limits: Limits, budget: _Budget) -> Iterator[Member | Passed]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _HOSTILE as exc:
        yield _bad(prefix, exc)
        return
    for info in infos:
        _count(prefix, limits, budget)  # directories too: each costs a record in memory
        if info.filename.endswith("/"):  # ZipInfo.is_dir() fails on an empty name
            continue
        name = prefix + safe_name(info.filename)
        mode = info.external_attr >> 16  # Unix mode, for zips made on Unix
        if stat.S_ISLNK(mode):
            yield Passed(name, "symlink", "a symlink in an archive (never followed)")
            continue
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            yield Passed(name, "special file", "not a regular file in an archive")
            continue
        if info.flag_bits & 0x1:
            yield Passed(name, "encrypted", "an encrypted archive member")
            continue
        if _is_bomb(info.file_size, info.compress_size, limits):
            yield _bomb(name, info.file_size, info.compress_size)
            continue
        if info.file_size > limits.max_member:
            yield _too_large(name, limits)
            continue
        try:
            with archive.open(info) as handle:
                # Never more than the cap, whatever size the member declared.
                content = handle.read(limits.max_member + 1)
        except _HOSTILE as exc:
            yield Passed(name, "unreadable member", f"{type(exc).__name__}: {exc}"[:200])
            continue
        if len(content) > limits.max_member:
            yield _too_large(name, limits)
            continue
        _take(prefix, len(content), limits, budget)
        yield Member(name, safe_name(info.filename), content)


def _tar(
    data: bytes | io.BytesIO, prefix: str, limits: Limits, budget: _Budget
) -> Iterator[Member | Passed]:
    # Members are slices of bytes already in memory (the blob, a member read, or a gunzipped
    # stream, each counted where it was made): they do not count against the inflated total.
    stream = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    try:
        # Closed by the `with` below: only the opening is what "unreadable archive" means.
        archive = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115
    except _HOSTILE as exc:
        yield _bad(prefix, exc)
        return
    with archive:
        yield from _tar_members(archive, prefix, limits, budget)


def _tar_members(
    archive: tarfile.TarFile, prefix: str, limits: Limits, budget: _Budget
) -> Iterator[Member | Passed]:
    read = 0
    while True:
        try:
            info = archive.next()
        except _HOSTILE as exc:
            if read == 0:
                yield _bad(prefix, exc)
            else:
                yield Passed(prefix.removesuffix("!"), "unreadable member", str(exc)[:200])
            return
        if info is None:
            return
        read += 1
        _count(prefix, limits, budget)  # directories too: tarfile keeps every header read
        if info.isdir():
            continue
        name = prefix + safe_name(info.name)
        if info.issym() or info.islnk():
            yield Passed(name, "symlink", "a link in an archive (never followed)")
            continue
        if not info.isreg():
            yield Passed(name, "special file", "not a regular file in an archive")
            continue
        if info.size > limits.max_member:
            yield _too_large(name, limits)
            continue
        try:
            handle = archive.extractfile(info)
            content = handle.read() if handle is not None else b""
        except _HOSTILE as exc:
            yield Passed(name, "unreadable member", f"{type(exc).__name__}: {exc}"[:200])
            continue
        yield Member(name, safe_name(info.name), content)


def _gzip(data: bytes, prefix: str, limits: Limits, budget: _Budget) -> Iterator[Member | Passed]:
    """A gzip stream: a tar inside is this same archive (`x.tar.gz!member`, one level); any
    other content is one member, named as the gzip header names the file it compressed."""
    here = prefix.removesuffix("!")
    try:
        stream = _gunzip(data, limits.max_total - budget.inflated, limits)
    except _Bomb as bomb:
        yield _bomb(here, bomb.inflated, bomb.compressed)
        return
    except _HOSTILE as exc:
        yield _bad(prefix, exc)
        return
    if stream is None:
        raise _Stop(Passed(here, "archive limit", f"over {limits.max_total >> 20} MB inflated"))
    _take(prefix, stream.getbuffer().nbytes, limits, budget)
    if stream.getbuffer()[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == TAR_MAGIC:
        yield from _tar(stream, prefix, limits, budget)
        return
    _count(prefix, limits, budget)
    inner = safe_name(_gzip_name(data) or _GUNZIPPED)
    if stream.getbuffer().nbytes > limits.max_member:
        yield _too_large(prefix + inner, limits)
        return
    yield Member(prefix + inner, inner, stream.getvalue())


class _Bomb(Exception):
    def __init__(self, inflated: int, compressed: int) -> None:
        super().__init__("archive bomb")
        self.inflated = inflated
        self.compressed = compressed


def _gunzip(data: bytes, limit: int, limits: Limits) -> io.BytesIO | None:
    """The inflated stream (every gzip member in `data`, one after another), or None past
    `limit` bytes. A bomb raises as soon as the ratio shows it, long before its size would."""
    out = io.BytesIO()
    inflated = 0
    start = 0  # where the current gzip member starts
    while start < len(data):
        engine = zlib.decompressobj(16 + zlib.MAX_WBITS)
        position = start
        pending = b""
        try:
            while not engine.eof:
                if not pending:
                    if position >= len(data):
                        raise EOFError("the gzip stream ends early")
                    pending = data[position : position + _CHUNK]
                    position += len(pending)
                piece = engine.decompress(pending, _CHUNK * 4)
                pending = engine.unconsumed_tail
                inflated += len(piece)
                compressed = position - len(pending)
                if _is_bomb(inflated, compressed, limits):
                    raise _Bomb(inflated, compressed)
                if inflated > limit:
                    return None
                out.write(piece)
        except (zlib.error, EOFError):
            if start == 0:
                raise
            break  # trailing bytes after a whole gzip member: keep what inflated
        start = position - len(engine.unused_data)
        if data.count(b"\0", start) == len(data) - start:
            break  # zero padding after the last member (tape-style files have it)
    out.seek(0)
    return out


def _gzip_name(data: bytes) -> str | None:
    """The file name a gzip header carries (FNAME, RFC 1952), without directories."""
    flags = data[3] if len(data) > 3 else 0
    if not flags & 0x08:
        return None
    at = 10
    if flags & 0x04:  # FEXTRA: two length bytes, then that much
        at += 2 + int.from_bytes(data[10:12], "little")
    end = data.find(b"\0", at, at + 1024)
    if end < 0:
        return None
    name = data[at:end].decode("latin-1").replace("\\", "/").rsplit("/", 1)[-1]
    return name or None


def _bomb(name: str, inflated: int, compressed: int) -> Passed:
    return Passed(
        name,
        "archive bomb",
        f"inflates {inflated:,} bytes from {compressed:,} (over {inflated // max(compressed, 1)}:1)"
        ": not inflated",
    )


def _too_large(name: str, limits: Limits) -> Passed:
    return Passed(name, "too large", f"over the {limits.max_member:,}-byte size cap")
