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
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool (default 3)")
    parser.add_argument("--warmups", type=int, default=1, help="unmeasured runs first (default 1)")
    parser.add_argument("--keyguard", default="keyguard", help="keyguard command")
    parser.add_argument("--gitleaks", default="gitleaks", help="gitleaks command")
    parser.add_argument("--kingfisher", default="kingfisher", help="Kingfisher command")
    parser.add_argument("--skip", action="append", default=[], help="tool to leave out")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--results", type=Path, default=bl.RESULTS_DEFAULT)
    parser.add_argument("--no-write", action="store_true", help="do not update --results")
    parser.add_argument("--prepare", action="store_true", help="build the inputs and exit")
    parser.add_argument("--bench-dir", type=Path, default=bl.BENCH_DIR_DEFAULT)
    parser.add_argument("--source-repo", type=Path, default=bl.SOURCE_REPO_DEFAULT)
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


def startup_median(tool: bl.Tool, scratch: Path) -> float | None:
    """Median wall time of ``TOOL --version`` (``gitleaks version``) over STARTUP_RUNS."""
    if tool.argv is None or tool.name == "floor":
        return None
    argv = [*tool.argv, *bl.VERSION_ARGS[tool.name]]
    bl.run_measured(argv, stdout=scratch / "startup.out")
    times = [bl.run_measured(argv, stdout=scratch / "startup.out") for _ in range(STARTUP_RUNS)]
    if any(run.exit_code != 0 for run in times):
        return None
    return statistics.median(run.seconds for run in times)


def startup_lines(tools: Sequence[bl.Tool], scratch: Path) -> list[str]:
    lines = [
        f"### Startup: `--version`, median of {STARTUP_RUNS} runs",
        "",
        "| Tool | Command | Median ms |",
        "|---|---|---:|",
    ]
    for tool in tools:
        if tool.name == "floor":
            continue
        median = startup_median(tool, scratch)
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
    notes = bl.notes_for(measurements)
    return lines + (["", "Notes:", "", *notes] if notes else [])


def run_tree(
    tree: Path, tools: Sequence[bl.Tool], args: argparse.Namespace, scratch: Path
) -> list[str]:
    size = bl.tree_size(tree)
    bl.step(f"tree {tree}: {size.files} files, {size.megabytes:.1f} MB (excluding .git)")
    fresh = [bl.Tool(t.name, t.argv, t.version, t.note) for t in tools]
    measurements = bl.measure(
        fresh,
        worktree_plan(tree),
        runs=args.runs,
        warmups=args.warmups,
        scratch=scratch,
        timeout=args.timeout,
    )
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
    with tempfile.TemporaryDirectory(prefix="keyguard-bench-") as tmp:
        for tree in trees:
            body += run_tree(tree.resolve(), tools, args, Path(tmp))
            body.append("")
        body += startup_lines(tools, Path(tmp))
    if not args.no_write:
        bl.update_section(args.results, SECTION, render(args, argv, body))
        bl.step(f"wrote section '{SECTION}' of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
