"""The GitHub Action's driver (`keyguard github-action`): pick the range the event asks for,
take the rules from the trusted side of it, audit, and write what GitHub reads.

- pull_request: base..head, only what the PR adds (a secret added and removed inside the PR is
  still reported: it was pushed, so it must be rotated);
- push: before..after; a new branch (all-zero before) is scanned relative to the default branch;
- schedule, workflow_dispatch (and anything else): the full history.
The configuration (`.keyguard.toml` or `[tool.keyguard]`) comes from the base commit of a pull
request (or the `before` of a push), never from its head, so a PR cannot switch off the scan of
itself. Outputs: annotations on stdout, a Markdown job summary, a SARIF file, and the step
outputs `findings` and `sarif`.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyguard.errors import ExitCode, UsageError
from keyguard.scope import AllRefs, HistoryScope, Revisions
from keyguard.sources import git

CONFIG_FILES = (".keyguard.toml", "pyproject.toml")
DEFAULT_BASELINE = ".keyguard-baseline"


@dataclass(frozen=True, slots=True)
class ActionInputs:
    path: str = "."
    base: str = ""
    head: str = ""
    fail_on_findings: bool = True
    sarif_file: str = "keyguard.sarif"

    @staticmethod
    def from_env(env: Mapping[str, str]) -> ActionInputs:
        def get(name: str, default: str) -> str:
            return env.get(f"INPUT_{name}", "").strip() or default

        fail = get("FAIL_ON_FINDINGS", "true").lower()
        if fail not in ("true", "false"):
            raise UsageError(f"input fail-on-findings must be true or false (got {fail!r})")
        return ActionInputs(
            path=get("PATH", "."),
            base=get("BASE", ""),
            head=get("HEAD", ""),
            fail_on_findings=fail == "true",
            sarif_file=get("SARIF_FILE", "keyguard.sarif"),
        )


@dataclass(frozen=True, slots=True)
class ActionPlan:
    scope: HistoryScope | None  # None: nothing to scan (base equals head, a deleted branch)
    config_rev: str | None  # the commit whose configuration applies; None: the checkout's
    description: str
    notes: list[str] = field(default_factory=list)


def plan_action(
    repo: Path, event_name: str, event: Mapping[str, Any], inputs: ActionInputs
) -> ActionPlan:
    base, head = inputs.base, inputs.head
    if not (base or head):
        base, head = _event_range(event_name, event)
    if head and git.is_zero(head):
        return ActionPlan(None, None, f"{event_name}: the branch was deleted", ["nothing to scan"])
    if not head and not base:
        return ActionPlan(AllRefs(), None, f"{event_name}: the full history of every ref")
    head_id = _commit(repo, head or "HEAD", "head")
    if base and git.is_zero(base):
        return _new_branch(repo, event, head_id, event_name)
    if not base:
        return ActionPlan(Revisions(include=(head_id,)), None, f"{event_name}: {head_id[:12]}")
    base_id = _commit(repo, base, "base")
    if base_id == head_id:
        return ActionPlan(
            None, base_id, f"{event_name}: base equals head", ["base equals head: nothing new"]
        )
    return ActionPlan(
        Revisions(include=(head_id,), exclude=(base_id,)),
        base_id,
        f"{event_name}: {base_id[:12]}..{head_id[:12]}",
    )


def _event_range(event_name: str, event: Mapping[str, Any]) -> tuple[str, str]:
    if event_name in ("pull_request", "pull_request_target"):
        pr = event.get("pull_request") or {}
        return str((pr.get("base") or {}).get("sha", "")), str(
            (pr.get("head") or {}).get("sha", "")
        )
    if event_name == "push":
        return str(event.get("before", "")), str(event.get("after", ""))
    return "", ""  # schedule, workflow_dispatch...: the whole history


def _new_branch(repo: Path, event: Mapping[str, Any], head: str, event_name: str) -> ActionPlan:
    """A new branch: what it has that the default branch has not (all of it, if there is none)."""
    default = str((event.get("repository") or {}).get("default_branch", ""))
    candidates = (f"refs/remotes/origin/{default}", f"refs/heads/{default}") if default else ()
    for ref in candidates:
        try:
            base = git.verify_revision(repo, ref)
        except UsageError:
            continue
        if base != head:
            return ActionPlan(
                Revisions(include=(head,), exclude=(base,)),
                base,
                f"{event_name}: new branch, compared with {default}",
            )
    return ActionPlan(
        Revisions(include=(head,)),
        None,
        f"{event_name}: new branch with no default branch to compare with: all its history",
    )


def _commit(repo: Path, rev: str, what: str) -> str:
    try:
        return git.verify_revision(repo, rev)
    except UsageError:
        raise UsageError(
            f"the {what} commit {rev} is not in the checkout: check out the full history "
            "(actions/checkout with `fetch-depth: 0`)"
        ) from None


def config_at(repo: Path, rev: str, folder: Path) -> Path | None:
    """The configuration file as it was at `rev`, copied out of git (None if there was none)."""
    for name in CONFIG_FILES:
        # cat-file, not show: `show rev:path` may run the repository's textconv driver
        shown = git.run_git(repo, "cat-file", "blob", f"{rev}:{name}", check=False)
        if not shown:
            continue
        if name == "pyproject.toml" and b"[tool.keyguard" not in shown:
            continue
        target = folder / name
        target.write_bytes(shown)
        return target
    return None


def baseline_at(repo: Path, rev: str, folder: Path) -> Path | None:
    """The baseline as it was at `rev` (None if there was none)."""
    shown = git.run_git(repo, "cat-file", "blob", f"{rev}:{DEFAULT_BASELINE}", check=False)
    if not shown:
        return None
    target = folder / DEFAULT_BASELINE
    target.write_bytes(shown)
    return target


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def run_action(
    env: Mapping[str, str],
    *,
    max_file_size: str | None,
    matcher: str,
    jobs: int,
) -> int:
    from keyguard.driver import default_jobs
    from keyguard.history import AuditOptions, audit
    from keyguard.report import RenderOptions, render
    from keyguard.report.github import format_summary
    from keyguard.run import Finished, blocking, finish, make_report, prepare

    inputs = ActionInputs.from_env(env)
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    repo = Path(inputs.path) if Path(inputs.path).is_absolute() else workspace / inputs.path
    if not git.is_repository(repo):
        raise UsageError(f"{repo}: not a git repository (did the workflow run actions/checkout?)")
    if git.is_shallow(repo):
        print(
            "::error title=keyguard::The checkout is shallow, so the commits to scan are not all "
            "there. Set `fetch-depth: 0` on actions/checkout."
        )
        return ExitCode.USAGE
    event = _event(env)
    plan = plan_action(repo, env.get("GITHUB_EVENT_NAME", ""), event, inputs)
    print(f"keyguard: {plan.description}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="keyguard-action-") as tmp:
        # The trusted side's configuration, or none at all: never the head's.
        config = config_at(repo, plan.config_rev, Path(tmp)) if plan.config_rev else None
        # The baseline too: a PR cannot add its own secret to the baseline and pass.
        known = baseline_at(repo, plan.config_rev, Path(tmp)) if plan.config_rev else None
        if plan.config_rev is None and (repo / DEFAULT_BASELINE).is_file():
            known = repo / DEFAULT_BASELINE
        ready = prepare(
            config,
            plan.config_rev is not None and config is None,
            repo,
            matcher,
            max_file_size,
            known,
        )
        compiled = ready.compiled
        if plan.scope is None:
            from keyguard.history import HistoryStats

            stats = HistoryStats(notes=list(plan.notes))
            finished = Finished([])
        else:
            result = audit(
                repo,
                compiled,
                plan.scope,
                AuditOptions(
                    jobs=jobs or default_jobs(),
                    max_size=ready.max_size,
                    need_values=ready.baseline is not None or ready.cfg.has_value_allowlists,
                ),
            )
            stats = result.stats
            stats.notes[:0] = plan.notes
            finished = finish(result.findings, ready)
    report = make_report(
        "history",
        (str(repo),),
        finished,
        stats,
        ready,
        extra={"commits": stats.commits, "blobs": stats.files, "notes": list(stats.notes)},
    )
    sarif = Path(inputs.sarif_file)
    sarif = sarif if sarif.is_absolute() else workspace / sarif
    sarif.parent.mkdir(parents=True, exist_ok=True)
    sarif.write_text(render(report, "sarif", RenderOptions()), encoding="utf-8")
    # The readable report quotes names from the repository: the runner must not take any of
    # its lines for a workflow command, so it is printed with command processing stopped.
    pause = secrets.token_hex(16)
    sys.stdout.write(f"::stop-commands::{pause}\n")
    sys.stdout.write(render(report, "text", RenderOptions()))
    sys.stdout.write(f"::{pause}::\n")
    sys.stdout.write(render(report, "github", RenderOptions()))
    sys.stdout.flush()
    _append(env.get("GITHUB_STEP_SUMMARY"), format_summary(report))
    _append(env.get("GITHUB_OUTPUT"), f"findings={len(report.findings)}\nsarif={sarif}\n")
    if not report.complete:
        return ExitCode.INCOMPLETE
    # A pull request fails on credentials and keys; hygiene findings are annotations only.
    if blocking(report.findings, ready.cfg.nonblocking_contexts) and inputs.fail_on_findings:
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: cannot read the event: {exc}") from None
    return loaded if isinstance(loaded, dict) else {}


def _append(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
