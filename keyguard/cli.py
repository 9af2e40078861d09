"""Command line: turns arguments into a frozen config, runs a source, maps errors to exit codes.

`main()` answers `--version` before importing anything heavy, so hooks and scripts that probe the
version stay fast; everything else is imported when a command runs.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Sequence

from keyguard import __version__
from keyguard.console import plain_typer_help, safe_streams
from keyguard.errors import ExitCode, KeyguardError
from keyguard.signals import stop_on_sigterm

STARTED = time.monotonic()  # a hook's time budget counts from here


def main(argv: Sequence[str] | None = None) -> int:
    safe_streams()  # before anything prints: no text may fail to encode (exit 4)
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("--version", "-V"):
        print(f"keyguard {__version__}")
        if "--verbose" in args[1:] or "-v" in args[1:]:
            print(_versions())
        return ExitCode.CLEAN
    stop_on_sigterm()  # SIGTERM stops a scan as Ctrl-C does: what finished, exit 3
    debug = "--debug" in args
    # --debug is accepted anywhere on the line (before or after the command).
    args = [a for a in args if a != "--debug"]
    try:
        import typer
        from typer._click.exceptions import ClickException

        from keyguard.commands import app

        plain_typer_help()
    except Exception:  # pragma: no cover - a broken install
        _report_crash(debug)
        return ExitCode.CRASH
    try:
        result = app(args, standalone_mode=False, prog_name="keyguard")
    except typer.Exit as stop:
        return int(stop.exit_code)
    except typer.Abort:
        print("keyguard: interrupted", file=sys.stderr)
        return ExitCode.INCOMPLETE
    except ClickException as problem:
        problem.show(file=sys.stderr)
        return ExitCode.USAGE
    except KeyguardError as problem:
        from keyguard.report.model import printable

        # Messages name paths and refs from the repository: no control character reaches
        # the terminal as it is.
        print(f"keyguard: error: {printable(str(problem))}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        print("keyguard: interrupted", file=sys.stderr)
        return ExitCode.INCOMPLETE
    except Exception:
        _report_crash(debug)
        return ExitCode.CRASH
    return int(result) if isinstance(result, int) else ExitCode.CLEAN


def _versions() -> str:
    """Which matcher a scan will use (and why), for bug reports and the README's speed claims."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from keyguard.matcher import is_hyperscan_available

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    if is_hyperscan_available():
        matcher = f"hyperscan {installed('hyperscan')} (fast)"
    else:
        matcher = (
            f"pyahocorasick {installed('pyahocorasick')} (hyperscan is not installed: no wheel for "
            f"{platform.system()} {platform.machine()}, or it failed to load)"
        )
    return (
        f"matcher: {matcher}\n"
        f"python: {platform.python_version()} ({platform.system()} {platform.machine()})"
    )


def _report_crash(debug: bool) -> None:
    kind, value, _ = sys.exc_info()
    name = kind.__name__ if kind else "error"
    # The message of an internal error could quote scanned content, so only its type is shown
    # unless the user asks for the whole traceback.
    print(
        f"keyguard: internal error ({name}); the scan did not complete. "
        "Run again with --debug for details.",
        file=sys.stderr,
    )
    if debug:
        traceback.print_exception(value)
