"""`keyguard import gitleaks`: a `.gitleaks.toml` (and its `.gitleaksignore`) written out as a
`.keyguard.toml` that keyguard reads with the same findings.

The file written is the very table keyguard builds when it reads `.gitleaks.toml` directly
(keyguard.importers.gitleaks), checked to load before it is written; everything that was not
translated exactly is printed on stderr and kept as a comment at the top of the file.
Fingerprints cannot become baseline entries (they hold no secret value), so the new file names
the `.gitleaksignore` with `gitleaks_ignore` instead.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from keyguard import __version__
from keyguard import config as config_mod
from keyguard.errors import ConfigError, ExitCode, UsageError
from keyguard.importers import gitleaks
from keyguard.importers.toml_writer import dumps
from keyguard.report.model import printable
from keyguard.signatures import parse_toml, read_bytes

STDOUT = Path("-")


def run_import_gitleaks(source: Path, output: Path | None, force: bool) -> int:
    path = source / gitleaks.CONFIG if source.is_dir() else source
    if not path.is_file():
        raise UsageError(f"{path}: no gitleaks configuration there")
    content = read_bytes(path, "configuration")
    data = parse_toml(content, str(path))
    imported, imported_notes = config_mod.import_gitleaks(path, data, content)
    loaded = config_mod.parse(imported, str(path))  # what is written must load
    target = output if output is not None else path.parent / ".keyguard.toml"
    table = dict(imported)
    notes = list(imported_notes)
    ignore = path.parent / gitleaks.IGNORE
    if ignore.is_file():
        # As written in the new file: relative to its folder (or here, for stdout).
        base = Path.cwd() if target == STDOUT else target.absolute().parent
        table["gitleaks_ignore"] = Path(os.path.relpath(ignore.absolute(), base)).as_posix()
        notes += config_mod.add_gitleaks_ignore(loaded, ignore).notes
    header = [
        f"Imported from {path.as_posix()} by `keyguard import gitleaks` (keyguard {__version__}).",
        "This file takes precedence: keyguard no longer reads the gitleaks file itself.",
    ]
    if notes:
        header += ["", "Not translated exactly (see also stderr):", *(f"- {n}" for n in notes)]
    text = dumps(table, header)
    if tomllib.loads(text) != table:  # pragma: no cover - a writer bug must not lose settings
        raise ConfigError(f"{target}: the written configuration does not read back the same")
    for note in notes:
        print(f"keyguard: note: {printable(note)}", file=sys.stderr)
    _write(target, text, force)
    rules = len(table.get("rule", []))
    where = "standard output" if target == STDOUT else str(target)
    print(
        f"keyguard: wrote {printable(where)}: {rules} rule{'s' * (rules != 1)}, "
        f"{len(notes)} note{'s' * (len(notes) != 1)}"
        + ("" if table.get("extend_default", True) else "; the built-in rules are off"),
        file=sys.stderr,
    )
    if ignore.is_file():
        print(
            f"keyguard: note: {printable(str(ignore))} is kept (`gitleaks_ignore`): its "
            "fingerprints hold line numbers, so an edit above a secret unsuppresses it; "
            "`keyguard baseline create` records known findings without that weakness",
            file=sys.stderr,
        )
    return ExitCode.CLEAN


def _write(target: Path, text: str, force: bool) -> None:
    if target == STDOUT:
        sys.stdout.write(text)
        return
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to replace it")
    try:
        target.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
