#!/usr/bin/env python3
"""Side-by-side working-tree scan benchmark: keyguard vs gitleaks vs Kingfisher vs `cat`.

For every ``--tree``, each tool runs once to warm up (page cache, rule caches) and then
``--runs`` times round-robin. Reported per tool: median and minimum wall time, peak RSS
(``ru_maxrss`` from ``os.wait4``), the number of findings in its JSON report, and its time
relative to Kingfisher, gitleaks and the floor (``cat`` of every file, single process).

Inputs (reproducible with ``--prepare``, see benchlib.prepare_inputs):

* ``/work/bench/git``: ``git clone --no-local /work/.mirror/git+git/repo /work/bench/git``
* ``/work/bench/large``: ``git archive`` of git's HEAD, v2.45.0, v2.40.0, v2.30.0 and
  v2.20.0, each into its own folder (about 4x git's working tree).

Example::

    python benchmarks/bench_worktree.py --prepare
    python benchmarks/bench_worktree.py --tree /work/bench/git --tree /work/bench/large \
        --gitleaks /path/to/gitleaks --kingfisher /path/to/kingfisher
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import benchlib as bl

SECTION = "worktree"
STARTUP_RUNS = 10


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", type=Path, help="tree to scan (repeatable)")
    bl.add_common_args(parser, timeout=1800)
    return parser.parse_args(argv)


def floor_command(tree: Path) -> list[str]:
    quoted = shlex.quote(str(tree))
    script = f"find {quoted} -type f -not -path '*/.git/*' -print0 | xargs -0 cat > /dev/null"
    return ["bash", "-c", script]


def worktree_plan(tree: Path) -> bl.RunPlan:
    """How each tool scans ``tree`` (the report path is chosen by the runner)."""

    def plan(tool: bl.Tool, output: Path) -> tuple[list[str], Path | None]:
        if tool.name == "floor":
            return floor_command(tree), None
        argv = tool.argv or []
        target, out = str(tree), str(output)
        if tool.name == "keyguard":
            return [*argv, "scan", target, "--format", "json", "--output", out], output
        if tool.name == "gitleaks":
            return [
                *argv, "dir", target, "--no-banner",
                "--report-format", "json", "--report-path", out,
            ], output  # fmt: skip
        return [
            *argv, "scan", target, "--no-validate", "--git-history", "none",
            "--no-update-check", "--format", "json", "--output", out,
        ], output  # fmt: skip

    return plan


def probe_tools(args: argparse.Namespace) -> list[bl.Tool]:
    tools = [
        bl.probe_tool("keyguard", args.keyguard),
        bl.probe_tool("gitleaks", args.gitleaks),
        bl.probe_tool("kingfisher", args.kingfisher),
        bl.floor_tool(),
    ]
    for tool in tools:
        if tool.name in args.skip:
            tool.argv, tool.note = None, "skipped (--skip)"
    return tools


def startup_median(tool: bl.Tool, settings: bl.Settings) -> float | None:
    """Median wall time of ``TOOL --version`` (``gitleaks version``) over STARTUP_RUNS."""
    if tool.argv is None or tool.name == "floor":
        return None
    argv = [*tool.argv, *bl.VERSION_ARGS[tool.name]]
    scratch = settings.scratch
    bl.run_measured(argv, stdout=scratch / "startup.out")
    settings.gate.wait()
    times = [bl.run_measured(argv, stdout=scratch / "startup.out") for _ in range(STARTUP_RUNS)]
    if any(run.exit_code != 0 for run in times):
        return None
    return statistics.median(run.seconds for run in times)


def startup_lines(tools: Sequence[bl.Tool], settings: bl.Settings) -> list[str]:
    lines = [
        f"### Startup: `--version`, median of {STARTUP_RUNS} runs",
        "",
        "| Tool | Command | Median ms |",
        "|---|---|---:|",
    ]
    for tool in tools:
        if tool.name == "floor":
            continue
        median = startup_median(tool, settings)
        shown = "not available" if median is None else f"{median * 1000:.0f}"
        command = bl.display([*(tool.argv or [tool.name]), *bl.VERSION_ARGS[tool.name]])
        lines.append(f"| {tool.name} | `{command}` | {shown} |")
        bl.step(f"startup {tool.name}: {shown} ms")
    return lines


def tree_lines(tree: Path, size: bl.TreeSize, measurements: Sequence[bl.Measurement]) -> list[str]:
    lines = [
        f"### Tree `{tree}`",
        "",
        f"{size.files} files, {size.megabytes:.1f} MB (excluding .git); "
        f"git HEAD: {bl.git_head(tree)}",
        "",
        bl.results_table(measurements),
        "",
        "Commands (OUT is a fresh temporary file per run):",
        "",
        "```",
    ]
    for item in measurements:
        if item.command:
            lines.append(item.command)
    lines += ["```", "", "Findings (rule: count, then locations; secrets never shown):", ""]
    for item in measurements:
        if item.findings is not None:
            lines.append(f"- {item.tool.name}: {len(item.findings)}")
            lines += bl.findings_breakdown(item.findings, tree)
    lines += ["", "Bars:", "", *bl.speed_bars(measurements)]
    notes = bl.notes_for(measurements) + bl.git_dir_notes(tree)
    return lines + (["", "Notes:", "", *notes] if notes else [])


def run_tree(tree: Path, tools: Sequence[bl.Tool], settings: bl.Settings) -> list[str]:
    size = bl.tree_size(tree)
    bl.step(f"tree {tree}: {size.files} files, {size.megabytes:.1f} MB (excluding .git)")
    fresh = [bl.Tool(t.name, t.argv, t.version, t.note) for t in tools]
    measurements = bl.measure(fresh, worktree_plan(tree), settings)
    bl.print_summary(f"results for {tree}", measurements)
    for item in measurements:
        if item.findings is not None:
            bl.step(f"  {item.tool.name} findings:")
            for line in bl.findings_breakdown(item.findings, tree):
                bl.step("  " + line)
    return tree_lines(tree, size, measurements)


def render(args: argparse.Namespace, argv: Sequence[str], body: list[str]) -> str:
    invocation = bl.display(["python", "benchmarks/bench_worktree.py", *argv])
    head = [
        "## Working-tree scan",
        "",
        f"Produced by `{invocation}`: {args.warmups} warm-up run(s), then {args.runs} "
        "measured runs per tool (round-robin). Times are wall-clock seconds; peak RSS is "
        "`ru_maxrss` of the process tree.",
        "",
        *bl.machine_info(),
        "",
    ]
    return "\n".join(head + body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    bl.exit_on_sigterm()
    if args.prepare:
        bl.prepare_inputs(args.bench_dir, args.source_repo)
        return 0
    trees: list[Path] = args.tree or [args.bench_dir / "git", args.bench_dir / "large"]
    missing = [str(tree) for tree in trees if not tree.is_dir()]
    if missing:
        print(f"missing trees (run with --prepare first): {', '.join(missing)}", file=sys.stderr)
        return 2
    tools = probe_tools(args)
    for tool in tools:
        bl.step(f"{tool.name}: {tool.version} {bl.display(tool.argv or [])} {tool.note}")
    body: list[str] = []
    gate = bl.IdleGate(args.idle_threshold, args.max_idle_wait)
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-") as tmp:
        for tree in trees:
            settings = bl.settings_from(args, Path(tmp), tree.name, gate)
            body += run_tree(tree.resolve(), tools, settings)
            body.append("")
        body += startup_lines(tools, bl.settings_from(args, Path(tmp), "startup", gate))
    if not args.no_write:
        bl.update_section(args.results, SECTION, render(args, argv, body))
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
