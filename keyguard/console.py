"""Where keyguard's output goes: the standard streams, every rich console, and report files.

One place decides whether output is coloured, so that NO_COLOR (https://no-color.org) and a
stream that is not a terminal are honoured by every console keyguard creates. rich is imported
only when a console is made: `keyguard --version` and a clean hook run stay fast. A report
file's destination is checked before the scan, and the report is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from keyguard.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console


def safe_streams() -> None:
    """Let stdout and stderr print any text, whatever their encoding.

    Paths, authors and previews are anything a repository holds; under PYTHONIOENCODING=ascii
    (or a legacy locale) printing `café.py` would raise UnicodeEncodeError and turn a finished
    scan into an internal error. A character the stream cannot encode is written as its
    backslash escape instead (a lone surrogate from a non-UTF-8 file name too).
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def is_no_color() -> bool:
    """NO_COLOR set to anything but the empty string: no colour, by https://no-color.org."""
    return os.environ.get("NO_COLOR", "") != ""


def use_color(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when the user asked for none."""
    if is_no_color():
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object
        return False


def make_console(
    file: IO[str] | None = None,
    *,
    stderr: bool = False,
    color: bool | None = None,
    **options: Any,
) -> Console:
    """A rich console whose colour follows `use_color` for the stream it writes to, unless the
    caller already decided (a report rendered into a buffer for a terminal).

    Without colour no style codes are written at all (color_system=None): rich's own NO_COLOR
    mode still emits bold and dim. A console on a terminal stays one (a progress bar still
    redraws its line), it only loses its colours.
    """
    from rich.console import Console

    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    colored = use_color(stream) if color is None else color
    return Console(
        file=file,
        stderr=stderr,
        color_system="auto" if colored else None,
        no_color=not colored,
        force_terminal=True if colored else None,
        **options,
    )


def plain_typer_help() -> None:
    """NO_COLOR reaches typer's help and usage-error screens too (they make their own rich
    console, coloured even on a pipe under GITHUB_ACTIONS or FORCE_COLOR)."""
    if is_no_color():
        import typer.rich_utils

        typer.rich_utils.COLOR_SYSTEM = None


def check_destination(path: Path) -> None:
    """Fail before the scan, not after it: a report that cannot be written would waste the
    scan (a history audit can take minutes) and leave its findings nowhere."""
    target = _target(path)
    if target.is_dir():
        raise UsageError(f"{path}: cannot write report: it is a directory")
    if target.exists() and not target.is_file():
        # A device or a pipe (/dev/stdout, a FIFO) is written in place.
        if not os.access(target, os.W_OK):
            raise UsageError(f"{path}: cannot write report: permission denied")
        return
    folder = target.parent
    if not folder.is_dir():
        problem = "not a directory" if folder.exists() else "no such directory"
        raise UsageError(f"{path}: cannot write report: {problem}: {folder}")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{path}: cannot write report: the file is read-only")
    try:
        # The only sure test (root passes os.access, a read-only mount refuses anyway): make
        # the temporary file the report will be written to, and remove it again.
        fd, probe = _create_temp(target, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot write report: cannot create a file in {folder}: {_reason(exc)}"
        ) from None


def write_report(path: Path, text: str, *, private: bool) -> None:
    """Write a report whole or not at all: into a temporary file beside it, synced, then
    renamed into place, so a full disk or an interrupt never leaves a truncated report (an
    earlier report at that path stays as it was). `private` (the report holds secret values)
    creates it mode 0600; otherwise it gets the usual mode the umask allows."""
    data = text.encode("utf-8")
    target = _target(path)
    try:
        if target.exists() and not target.is_file():
            with open(target, "wb") as device:
                device.write(data)
            return
        fd, temporary = _create_temp(target, 0o600 if private else 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):  # the failure is what is reported
                os.unlink(temporary)
            raise
    except OSError as exc:
        kept = "; the earlier report there is unchanged" if target.is_file() else ""
        raise UsageError(
            f"{path}: cannot write report: {_reason(exc)}; no report was written{kept}"
        ) from None


def _target(path: Path) -> Path:
    """The file a report at `path` lands in: a symbolic link's target (a link is written
    through, as before, not replaced by the rename)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _create_temp(target: Path, mode: int) -> tuple[int, str]:
    """A new file beside `target` (the same file system, so the rename is atomic), created
    with `mode` less the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        name = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, flags, mode), name
        except FileExistsError:
            continue


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
