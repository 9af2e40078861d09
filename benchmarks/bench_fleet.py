#!/usr/bin/env python3
"""Side-by-side audit of many repositories: a shell loop of `keyguard history`, `keyguard
fleet` on 1 and on 2 workers (and its rerun from the audit log), and Kingfisher over the same
list.

The estate is ``--count`` bare repositories (default 50): copies of the small real projects
named with ``--project`` (bare clones, repeated as needed), synthetic ones (a few commits of
generated text, some with generated tokens), and ``--large`` bigger synthetic ones (more
commits and files). Every tool sees the same repositories: the loop and Kingfisher read the
bare repositories in place; the fleet mirrors each one first (`file://` clone URLs), as it
would a remote, into a fresh work directory per measured run. Kingfisher runs with
``--no-validate`` (no network) over all the repositories in one invocation.

Example::

    python benchmarks/bench_fleet.py --count 5               # a quick check
    python benchmarks/bench_fleet.py --project /work/.mirror/psf+requests/repo --large 3
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import benchlib as bl

SECRET_EVERY = 4  # one synthetic repository in SECRET_EVERY gets a generated token
_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="repositories (default 50)")
    parser.add_argument("--large", type=int, default=3, help="bigger synthetic ones (3)")
    parser.add_argument(
        "--project", type=Path, action="append", default=[], help="a real git repository to copy"
    )
    parser.add_argument("--scratch", type=Path, help="where the estate is built (a temp dir)")
    parser.add_argument("--keyguard", default="keyguard", help="keyguard command")
    parser.add_argument("--kingfisher", default=None, help="kingfisher command (autodetected)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    return parser.parse_args(argv)


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, **_ENV, "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def synthetic(root: Path, n: int, commits: int, files: int, rng: random.Random) -> Path:
    from keyguard.examples import generate_secret
    from keyguard.signatures import load_builtin

    work = root / "work" / f"synthetic-{n:03d}"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    words = ["alpha", "beta", "gamma", "delta", "config", "value", "server", "client"]
    for c in range(commits):
        for f in range(files):
            if rng.random() < 0.3 or c == 0:
                text = "\n".join(" ".join(rng.choices(words, k=12)) for _ in range(40))
                (work / f"module_{f:03d}.txt").write_text(text + "\n", encoding="utf-8")
        if c == 1 and n % SECRET_EVERY == 0:
            rule = {r.id: r for r in load_builtin()}["github.pat"]
            token = generate_secret(rule, rng)
            (work / "settings.py").write_text(f'TOKEN = "{token}"\n', encoding="utf-8")
        git(work, "add", "-A")
        git(work, "commit", "-q", "--allow-empty", "-m", f"change {c}")
    return bare_copy(work, root / "bare" / f"synthetic-{n:03d}.git")


def bare_copy(source: Path, bare: Path) -> Path:
    bare.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--no-local", str(source), str(bare)], check=True
    )
    return bare


def build_estate(args: argparse.Namespace, root: Path) -> list[Path]:
    rng = random.Random("keyguard fleet benchmark")
    repos: list[Path] = []
    for n in range(args.count):
        if n < args.large:
            repos.append(synthetic(root, n, commits=60, files=80, rng=rng))
        elif args.project and n % 3 == 0:
            project = args.project[(n // 3) % len(args.project)]
            repos.append(bare_copy(project, root / "bare" / f"{project.name}-{n:03d}.git"))
        else:
            repos.append(synthetic(root, n, commits=6, files=10, rng=rng))
    return repos


def kingfisher_command(choice: str | None) -> str | None:
    if choice:
        return choice
    found = shutil.which("kingfisher")
    if found:
        return found
    bundled = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidate = bundled / "site-packages" / "kingfisher" / "bin" / "kingfisher"
    return str(candidate) if candidate.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.scratch or Path(tempfile.mkdtemp(prefix="keyguard-fleet-bench-"))
    bl.step(f"building {args.count} repositories in {root}")
    repos = build_estate(args, root)
    listing = root / "repos.txt"
    listing.write_text("".join(r.as_uri() + "\n" for r in repos), encoding="utf-8")
    keyguard = bl.resolve_command(args.keyguard) or [args.keyguard]
    loop = " && ".join(
        f"{{ {shlex.join(keyguard)} history {shlex.quote(str(r))} --no-cache --no-config"
        " --format json -o /dev/null"
        " || [ $? -eq 1 ]; }"
        for r in repos
    )
    runs: list[tuple[str, list[str], bool]] = [
        ("keyguard history, shell loop", ["bash", "-c", loop], True)
    ]
    for workers in (1, 2):
        work = root / f"fleet-{workers}"
        fleet = [
            *keyguard,
            "fleet",
            str(listing),
            "--workers",
            str(workers),
            "--workdir",
            str(work),
        ]
        runs.append(
            (
                f"keyguard fleet, {workers} worker(s)",
                [*fleet, "--format", "json", "-o", "/dev/null"],
                True,
            )
        )
        if workers == 2:
            runs.append(
                (
                    "keyguard fleet, rerun from the log (nothing changed)",
                    [*fleet, "--format", "json", "-o", "/dev/null"],
                    False,
                )
            )
    king = kingfisher_command(args.kingfisher)
    if king:
        runs.append(
            (
                "kingfisher scan (all repositories, --no-validate)",
                [king, "scan", *map(str, repos), "--no-validate", "--git-history", "full",
                 "--no-update-check", "--format", "json", "--output", str(root / "kingfisher.json")],
                True,
            )
        )  # fmt: skip
    else:
        bl.step("kingfisher not found: skipped (--kingfisher PATH)")
    results = []
    for label, command, fresh in runs:
        if fresh and "fleet" in label:
            shutil.rmtree(command[command.index("--workdir") + 1], ignore_errors=True)
        bl.step(label)
        run = bl.run_measured(command, stderr=root / "stderr.txt", timeout=args.timeout)
        ok = run.exit_code in (0, 1, 200, 205) and not run.timed_out
        results.append((label, run, ok))
        if not ok:
            bl.step(f"  failed (exit {run.exit_code}): {bl.tail(root / 'stderr.txt')}")
    base = results[0][1].seconds
    print(f"\n{args.count} repositories ({args.large} larger), {os.cpu_count()} CPUs\n")
    print("| run | seconds | speed-up vs loop | peak RSS MB | ok |\n|---|---:|---:|---:|---|")
    for label, run, ok in results:
        print(
            f"| {label} | {run.seconds:.1f} | {base / run.seconds:.2f}x | "
            f"{run.max_rss_kb / 1024:.0f} | {'yes' if ok else 'NO'} |"
        )
    if args.scratch is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
