#!/usr/bin/env python3
"""Side-by-side full-history scan benchmark: keyguard vs gitleaks vs Kingfisher vs git.

Scans every commit reachable from any ref of a non-bare clone (``--repo``). Each tool runs
``--warmups`` unmeasured times and then ``--runs`` times round-robin; the floor is
``git cat-file --batch-all-objects --batch --unordered`` (inflate every object once).

It also measures keyguard's "re-audit after one new commit": the repository is cloned to
a scratch directory, keyguard history runs once there, then (``--runs`` times) one commit
is added and the next ``keyguard history`` run is timed.

Example::

    python benchmarks/bench_history.py --prepare
    python benchmarks/bench_history.py --repo /work/bench/git \
        --gitleaks /path/to/gitleaks --kingfisher /path/to/kingfisher
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as bl

SECTION = "history"
RSS_LIMIT_MB = 1024
REAUDIT_LIMIT_S = 3.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, help="non-bare git clone (default BENCH/git)")
    parser.add_argument("--no-reaudit", action="store_true", help="skip the re-audit test")
    parser.add_argument("--scratch", type=Path, help="where the re-audit clone goes")
    parser.add_argument(
        "--keyguard-arg",
        action="append",
        help="extra argument for the measured full keyguard history runs (repeatable; "
        "default: --no-cache when `keyguard history --help` offers it, so every measured run "
        "is a full audit); not used for the re-audit runs",
    )
    bl.add_common_args(parser, timeout=3600)
    return parser.parse_args(argv)


def history_argv(tool: bl.Tool, repo: Path, output: Path, extra: Sequence[str] = ()) -> list[str]:
    """The command each tool uses to scan all of ``repo``'s history."""
    argv, target, out = tool.argv or [], str(repo), str(output)
    if tool.name == "floor":
        script = f"git -C {shlex.quote(target)} cat-file --batch-all-objects --batch --unordered"
        return ["bash", "-c", script + " > /dev/null"]
    if tool.name == "keyguard":
        return [*argv, "history", target, "--format", "json", "--output", out, *extra]
    if tool.name == "gitleaks":
        # gitleaks runs `git log -p -U0 --full-history --all` when --log-opts is not given.
        return [
            *argv, "git", target, "--no-banner",
            "--report-format", "json", "--report-path", out,
        ]  # fmt: skip
    return [
        *argv, "scan", target, "--no-validate", "--git-history", "full",
        "--no-update-check", "--format", "json", "--output", out,
    ]  # fmt: skip


def history_plan(repo: Path, keyguard_args: Sequence[str]) -> bl.RunPlan:
    def plan(tool: bl.Tool, output: Path) -> tuple[list[str], Path | None]:
        argv = history_argv(tool, repo, output, keyguard_args)
        return argv, None if tool.name == "floor" else output

    return plan


def history_help(tool: bl.Tool) -> str | None:
    """``keyguard history --help`` output, or None when there is no such command."""
    if tool.argv is None:
        return None
    done = subprocess.run(
        [*tool.argv, "history", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout if done.returncode == 0 else None


def full_audit_args(args: argparse.Namespace, help_text: str | None) -> list[str]:
    """Extra keyguard arguments for the measured runs (see --keyguard-arg)."""
    if args.keyguard_arg is not None:
        return list(args.keyguard_arg)
    return ["--no-cache"] if help_text and "--no-cache" in help_text else []


def probe_tools(args: argparse.Namespace) -> list[bl.Tool]:
    keyguard = bl.probe_tool("keyguard", args.keyguard)
    help_text = history_help(keyguard)
    if keyguard.available and help_text is None:
        keyguard.argv, keyguard.note = None, "keyguard has no `history` command yet"
    args.keyguard_arg = full_audit_args(args, help_text)
    tools = [
        bl.floor_tool(),  # first: it also pulls the packfiles into the page cache
        keyguard,
        bl.probe_tool("gitleaks", args.gitleaks),
        bl.probe_tool("kingfisher", args.kingfisher),
    ]
    for tool in tools:
        if tool.name in args.skip:
            tool.argv, tool.note = None, "skipped (--skip)"
    return tools


def git(repo: Path, *args: str) -> str:
    return bl.capture(["git", "-C", str(repo), *args], timeout=600)


def repo_lines(repo: Path) -> list[str]:
    counts = dict(
        line.split(": ", 1)
        for line in git(repo, "count-objects", "-v").splitlines()
        if ": " in line
    )
    pack_mb = int(counts.get("size-pack", "0")) / 1024
    return [
        f"- HEAD: {git(repo, 'rev-parse', 'HEAD')}",
        f"- commits reachable from all refs: {git(repo, 'rev-list', '--all', '--count')}",
        f"- refs: {len(git(repo, 'for-each-ref', '--format=%(refname)').splitlines())}",
        f"- objects: {int(counts.get('in-pack', '0')) + int(counts.get('count', '0'))}, "
        f"pack size {pack_mb:.0f} MB",
    ]


# --------------------------------------------------------------------------- re-audit


@dataclass
class Reaudit:
    """keyguard history on a fresh clone, then after each new commit."""

    first: bl.Run | None = None
    after_commit: list[bl.Run] = field(default_factory=list)
    error: str = ""


def add_commit(repo: Path, number: int) -> None:
    path = repo / f"keyguard-bench-{number}.txt"
    path.write_text(f"benchmark commit {number}\n")
    git(repo, "add", path.name)
    ident = ["-c", "user.name=keyguard bench", "-c", "user.email=bench@example.invalid"]
    git(repo, *ident, "commit", "-q", "-m", f"keyguard bench commit {number}")


def keyguard_history_once(tool: bl.Tool, repo: Path, settings: bl.Settings) -> tuple[bl.Run, str]:
    scratch = settings.scratch
    argv = history_argv(tool, repo, scratch / "reaudit.json")
    settings.gate.wait()
    run = bl.run_measured(argv, stderr=scratch / "reaudit.stderr", timeout=settings.timeout)
    ok = run.exit_code in bl.OK_EXIT_CODES["keyguard"] and not run.timed_out
    error = "" if ok else f"exit code {run.exit_code}: {bl.tail(scratch / 'reaudit.stderr')}"
    return run, error


def measure_reaudit(tool: bl.Tool, repo: Path, settings: bl.Settings) -> Reaudit:
    """Clone ``repo``, run keyguard history once, then time it after each new commit."""
    result = Reaudit()
    clone = settings.scratch / "reaudit-clone"
    bl.sh(["git", "clone", "-q", "--no-local", str(repo), str(clone)])
    result.first, result.error = keyguard_history_once(tool, clone, settings)
    bl.step(f"re-audit: first keyguard history run {result.first.seconds:.2f}s")
    for number in range(1, settings.runs + 1):
        if result.error:
            break
        add_commit(clone, number)
        run, result.error = keyguard_history_once(tool, clone, settings)
        result.after_commit.append(run)
        bl.step(f"re-audit: after commit {number}: {run.seconds:.2f}s")
    return result


def reaudit_lines(tool: bl.Tool, reaudit: Reaudit | None) -> list[str]:
    lines = ["### Re-audit after one new commit (keyguard)", ""]
    if reaudit is None:
        return [*lines, f"not measured ({tool.note or 'keyguard not available'})"]
    if reaudit.first is not None:
        lines.append(f"- first run on a fresh clone: {reaudit.first.seconds:.2f}s")
    if reaudit.after_commit:
        times = [run.seconds for run in reaudit.after_commit]
        shown = ", ".join(f"{t:.2f}" for t in times)
        lines.append(f"- after one new commit: median {statistics.median(times):.2f}s ({shown})")
    if reaudit.error:
        lines.append(f"- failed: {reaudit.error}")
    return lines


# --------------------------------------------------------------------------- report


def history_bars(measurements: Sequence[bl.Measurement], reaudit: Reaudit | None) -> list[str]:
    lines = bl.speed_bars(measurements)
    ours = next((m for m in measurements if m.tool.name == "keyguard" and m.ok), None)
    if ours is None:
        lines.append(bl.bar_line(f"keyguard peak RSS < {RSS_LIMIT_MB} MB", None, "not measured"))
    else:
        passed = ours.peak_rss_mb < RSS_LIMIT_MB
        detail = f"{ours.peak_rss_mb:.0f} MB"
        lines.append(bl.bar_line(f"keyguard peak RSS < {RSS_LIMIT_MB} MB", passed, detail))
    label = f"re-audit after one commit < {REAUDIT_LIMIT_S:.0f} s"
    if reaudit is None or not reaudit.after_commit or reaudit.error:
        lines.append(bl.bar_line(label, None, "not measured"))
    else:
        median = statistics.median(run.seconds for run in reaudit.after_commit)
        lines.append(bl.bar_line(label, median < REAUDIT_LIMIT_S, f"{median:.2f}s"))
    return lines


def cache_notes(measurements: Sequence[bl.Measurement]) -> list[str]:
    """Flag measured runs much faster than the warm-up: the sign of a reused cache."""
    notes: list[str] = []
    for item in measurements:
        if item.ok and item.warmup_runs and item.median < 0.5 * item.warmup_runs[0].seconds:
            notes.append(
                f"- {item.tool.name}: measured runs took less than half the warm-up's "
                f"{item.warmup_runs[0].seconds:.2f}s; check that it is not reusing a cache"
            )
    return notes


def render(
    args: argparse.Namespace,
    argv: Sequence[str],
    repo: Path,
    measurements: Sequence[bl.Measurement],
    reaudit: Reaudit | None,
) -> str:
    invocation = bl.display(["python", "benchmarks/bench_history.py", *argv])
    keyguard = next(m.tool for m in measurements if m.tool.name == "keyguard")
    lines = [
        "## Full-history scan",
        "",
        f"Produced by `{invocation}`: {args.warmups} warm-up run(s), then {args.runs} "
        "measured run(s) per tool (round-robin, the floor first). Times are wall-clock "
        "seconds; peak RSS is `ru_maxrss` of the process tree.",
        "",
        *bl.machine_info(),
        "",
        f"### Repository `{repo}`",
        "",
        *repo_lines(repo),
        "",
        bl.results_table(measurements),
        "",
        "Commands (OUT is a fresh temporary file per run):",
        "",
        "```",
        *(item.command for item in measurements if item.command),
        "```",
        "",
        "Findings (rule: count, then locations; secrets never shown):",
        "",
    ]
    for item in measurements:
        if item.findings is not None:
            lines.append(f"- {item.tool.name}: {len(item.findings)}")
            lines += bl.findings_breakdown(item.findings, repo)
    lines += ["", *reaudit_lines(keyguard, reaudit), "", "Bars:", ""]
    lines += history_bars(measurements, reaudit)
    notes = bl.notes_for(measurements) + cache_notes(measurements) + bl.git_dir_notes(repo)
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    bl.exit_on_sigterm()
    if args.prepare:
        bl.prepare_inputs(args.bench_dir, args.source_repo)
        return 0
    repo: Path = (args.repo or args.bench_dir / "git").resolve()
    if not (repo / ".git").exists():
        print(f"{repo} is not a non-bare git clone (try --prepare)", file=sys.stderr)
        return 2
    tools = probe_tools(args)
    for tool in tools:
        bl.step(f"{tool.name}: {tool.version} {bl.display(tool.argv or [])} {tool.note}")
    reaudit: Reaudit | None = None
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-", dir=args.scratch) as tmp:
        scratch = Path(tmp)
        settings = bl.settings_from(
            args, scratch, "history", bl.IdleGate(args.idle_threshold, args.max_idle_wait)
        )
        measurements = bl.measure(tools, history_plan(repo, args.keyguard_arg), settings)
        keyguard = next(tool for tool in tools if tool.name == "keyguard")
        if keyguard.available and not args.no_reaudit:
            reaudit = measure_reaudit(keyguard, repo, settings)
    bl.print_summary(f"results for {repo}", measurements)
    if not args.no_write:
        bl.update_section(args.results, SECTION, render(args, argv, repo, measurements, reaudit))
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
