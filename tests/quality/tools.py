"""Run scanners on a directory (offline) and parse their JSON reports into ``Finding`` objects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .scoring import Finding, normalize_path

VENV_BIN = Path(sys.executable).parent


class ToolError(RuntimeError):
    pass


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return normalize_path(p.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            return normalize_path(p.as_posix())
    return normalize_path(path)


def _run(cmd: list[str], report: Path, cwd: Path, timeout: float) -> Any:
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if not report.exists():
        raise ToolError(f"{cmd[0]} wrote no report (exit {proc.returncode}): {proc.stderr[-2000:]}")
    text = report.read_text(encoding="utf-8")
    return json.loads(text) if text.strip() else None


# -- parsers --------------------------------------------------------------------------------------
def parse_keyguard(data: Any, root: Path) -> list[Finding]:
    findings = data.get("findings", []) if isinstance(data, dict) else []
    # Key-hygiene findings (verify=False, a committed password hash, key reuse) are another
    # question than "is this line a credential": the corpus labels credentials only.
    return [
        Finding(_relative(str(f["path"]), root), int(f["line"]), str(f.get("rule_id", "")))
        for f in findings
        if f.get("category") != "hygiene"
    ]


def parse_gitleaks(data: Any, root: Path) -> list[Finding]:
    return [
        Finding(_relative(str(f["File"]), root), int(f["StartLine"]), str(f.get("RuleID", "")))
        for f in (data or [])
    ]


def parse_kingfisher(data: Any, root: Path) -> list[Finding]:
    items = data.get("findings", []) if isinstance(data, dict) else (data or [])
    out = []
    for item in items:
        finding = item.get("finding", item)
        rule = item.get("rule", {})
        out.append(
            Finding(
                _relative(str(finding["path"]), root),
                int(finding["line"]),
                str(rule.get("id", "") if isinstance(rule, dict) else rule),
            )
        )
    return out


# -- runners --------------------------------------------------------------------------------------
def find_exe(name: str) -> str | None:
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def run_keyguard(root: Path, work: Path, timeout: float = 300) -> list[Finding]:
    report = work / "keyguard.json"
    cmd = [
        sys.executable,
        "-m",
        "keyguard",
        "scan",
        str(root),
        "--format",
        "json",
        "--output",
        str(report),
    ]
    return parse_keyguard(_run(cmd, report, work, timeout), root)


def run_gitleaks(root: Path, work: Path, timeout: float = 300) -> list[Finding]:
    exe = find_exe("gitleaks")
    if exe is None:
        raise ToolError("gitleaks not installed")
    report = work / "gitleaks.json"
    cmd = [
        exe,
        "dir",
        str(root),
        "--no-banner",
        "--report-format",
        "json",
        "--report-path",
        str(report),
        "--exit-code",
        "0",
        "--log-level",
        "error",
    ]
    return parse_gitleaks(_run(cmd, report, work, timeout), root)


def run_kingfisher(root: Path, work: Path, timeout: float = 300) -> list[Finding]:
    exe = find_exe("kingfisher")
    if exe is None:
        raise ToolError("kingfisher not installed")
    report = work / "kingfisher.json"
    cmd = [
        exe,
        "scan",
        str(root),
        "--no-validate",
        "--git-history",
        "none",
        "--no-dedup",
        "--no-update-check",
        "--format",
        "json",
        "--output",
        str(report),
        "--quiet",
    ]
    return parse_kingfisher(_run(cmd, report, work, timeout), root)


RUNNERS: dict[str, Callable[[Path, Path], list[Finding]]] = {
    "keyguard": run_keyguard,
    "gitleaks": run_gitleaks,
    "kingfisher": run_kingfisher,
}


def keyguard_available() -> bool:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "keyguard", "--version"], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0
