"""Run keyguard, gitleaks and Kingfisher over a repository's whole history, offline.

Each runner returns the tool's findings as `Reported(commit, path, line, rule, preview)`; the
preview keeps at most 4 characters of a secret.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .scoring import Reported

VENV_BIN = Path(sys.executable).parent


class ToolError(RuntimeError):
    pass


def find_exe(name: str) -> str | None:
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def _run(cmd: list[str], report: Path, timeout: float) -> Any:
    report.unlink(missing_ok=True)
    proc = subprocess.run(
        cmd,
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    if not report.exists():
        raise ToolError(f"{cmd[0]} wrote no report (exit {proc.returncode}): {proc.stderr[-800:]}")
    text = report.read_text(encoding="utf-8")
    return json.loads(text) if text.strip() else None


def _preview(value: object) -> str:
    return str(value or "")[:4]


# -- parsers --------------------------------------------------------------------------------------
def parse_keyguard(data: Any) -> list[Reported]:
    if not isinstance(data, dict) or data.get("schema") != "keyguard.report/3":
        raise ToolError("keyguard: not a keyguard.report/3 document")
    return [
        Reported(
            str(f.get("commit") or ""),
            str(f["path"]),
            int(f["line"]),
            str(f.get("rule_id", "")),
            _preview(f.get("preview")),
            f["in_head"] if isinstance(f.get("in_head"), bool) else None,
        )
        for f in data.get("findings", [])
        if f.get("category") != "hygiene"  # credentials only, as the corpus labels them
    ]


def parse_gitleaks(data: Any) -> list[Reported]:
    return [
        Reported(
            str(f.get("Commit") or ""),
            str(f["File"]),
            int(f["StartLine"]),
            str(f.get("RuleID", "")),
            _preview(f.get("Secret")),
        )
        for f in (data or [])
    ]


def parse_kingfisher(data: Any) -> list[Reported]:
    items = data.get("findings", []) if isinstance(data, dict) else (data or [])
    out: list[Reported] = []
    for item in items:
        finding = item.get("finding", item)
        meta = finding.get("git_metadata") or {}
        commit = str((meta.get("commit") or {}).get("id") or "")
        path = str((meta.get("file") or {}).get("path") or finding.get("path", ""))
        rule = item.get("rule", {})
        out.append(
            Reported(
                commit,
                path,
                int(finding["line"]),
                str(rule.get("id", "") if isinstance(rule, dict) else rule),
                _preview(finding.get("snippet")),
            )
        )
    return out


# -- runners --------------------------------------------------------------------------------------
def run_keyguard(repo: Path, work: Path, timeout: float = 300) -> list[Reported]:
    report = work / "keyguard-history.json"
    exe = find_exe("keyguard")
    base = [exe] if exe else [sys.executable, "-m", "keyguard"]
    cmd = [*base, "history", str(repo), "--format", "json", "--output", str(report), "--no-cache"]
    return parse_keyguard(_run(cmd, report, timeout))


def run_gitleaks(repo: Path, work: Path, timeout: float = 300) -> list[Reported]:
    exe = find_exe("gitleaks")
    if exe is None:
        raise ToolError("gitleaks not installed")
    report = work / "gitleaks-history.json"
    cmd = [
        exe,
        "git",
        str(repo),
        "--log-opts=--all --full-history",  # every ref (branches, tags), not only HEAD
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
    return parse_gitleaks(_run(cmd, report, timeout))


def _mirror(repo: Path, work: Path) -> Path:
    """A bare copy of every ref, so that Kingfisher scans history only (not the work tree files)."""
    bare = work / "mirror.git"
    if bare.exists():
        shutil.rmtree(bare)
    subprocess.run(
        ["git", "clone", "-q", "--mirror", "--no-local", str(repo), str(bare)],
        check=True,
        capture_output=True,
    )
    return bare


def _kingfisher(dedup: bool) -> Callable[[Path, Path, float], list[Reported]]:
    def run(repo: Path, work: Path, timeout: float = 300) -> list[Reported]:
        exe = find_exe("kingfisher")
        if exe is None:
            raise ToolError("kingfisher not installed")
        report = work / "kingfisher-history.json"
        cmd = [
            exe,
            "scan",
            str(_mirror(repo, work)),
            "--no-validate",
            "--git-history",
            "full",
            *([] if dedup else ["--no-dedup"]),
            "--no-update-check",
            "--format",
            "json",
            "--output",
            str(report),
            "--quiet",
        ]
        return parse_kingfisher(_run(cmd, report, timeout))

    return run


Runner = Callable[[Path, Path, float], list[Reported]]

RUNNERS: dict[str, Runner] = {
    "keyguard": run_keyguard,
    "gitleaks": run_gitleaks,
    # --no-dedup: every occurrence, as history events need; "kingfisher-dedup" is its default.
    "kingfisher": _kingfisher(dedup=False),
    "kingfisher-dedup": _kingfisher(dedup=True),
}
