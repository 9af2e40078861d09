"""The one fatal error type and the exit codes it maps to (mapped in one place: cli.main)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    CLEAN = 0
    FINDINGS = 1
    USAGE = 2  # bad arguments, configuration or rule files
    INCOMPLETE = 3  # the scan ran but something could not be read
    CRASH = 4  # an internal error: never a silent pass


class KeyguardError(Exception):
    """An error the user can act on; the message is shown without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class ConfigError(KeyguardError):
    """A configuration or rule file is invalid."""


class UsageError(KeyguardError):
    """The command line asks for something impossible."""


class ScanError(KeyguardError):
    """The scan could not run at all (e.g. not a git repository)."""

    exit_code = ExitCode.INCOMPLETE
