"""The typer application: scan, history, the hook commands, install-hook, signatures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from keyguard import __version__
from keyguard.errors import ExitCode, UsageError

app = typer.Typer(
    name="keyguard",
    help="Find leaked credentials and private keys in files and git history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
signatures_app = typer.Typer(help="Inspect and check rule files.", no_args_is_help=True)
app.add_typer(signatures_app, name="signatures")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"keyguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """keyguard: secrets scanning and key hygiene for git."""


def _format_name(value: str) -> str:
    from keyguard.report import FORMATS

    if value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    return value


FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        callback=_format_name,
        help="Report format: text, json, jsonl, sarif, github, html.",
    ),
]


def _destination(value: Path | None) -> Path | None:
    """An --output that cannot be written is a usage error before anything is scanned."""
    if value is not None:
        from keyguard.console import check_destination

        check_destination(value)
    return value


OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        callback=_destination,
        help="Write the report to FILE instead of stdout.",
    ),
]
ShowOpt = Annotated[
    bool, typer.Option("--show-secrets", help="Show full secret values (redacted by default).")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: .keyguard.toml or pyproject.toml)."),
]
NoConfigOpt = Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")]
JobsOpt = Annotated[
    int, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")
]
MatcherOpt = Annotated[
    str, typer.Option("--matcher", help="Keyword matcher: auto, pyahocorasick or hyperscan.")
]
BaselineOpt = Annotated[
    Path | None,
    typer.Option("--baseline", help="Known findings to leave out (keyguard baseline create)."),
]


@app.command()
def scan(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or directories to scan ('-' reads stdin).")
    ] = None,
    output_format: FormatOpt = "text",
    output: OutputOpt = None,
    show_secrets: ShowOpt = False,
    all_files: Annotated[
        bool,
        typer.Option("--all-files", help="Scan ignored files too (default: honour .gitignore)."),
    ] = False,
    max_file_size: Annotated[
        str | None,
        typer.Option("--max-file-size", help="Skip files larger than this (default 10MB)."),
    ] = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    jobs: JobsOpt = 0,
    matcher: MatcherOpt = "auto",
    baseline: BaselineOpt = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="Also run the rules of this rule file (repeatable)."),
    ] = None,
) -> int:
    """Scan files and directories (the working tree) for secrets."""
    from keyguard.run import ScanRequest, run_scan

    targets = paths or ["."]
    if "-" in targets and len(targets) > 1:
        raise UsageError("'-' (stdin) cannot be combined with other paths")
    request = ScanRequest(
        targets=tuple(targets),
        output_format=output_format,
        output=output,
        show_secrets=show_secrets,
        all_files=all_files,
        max_file_size=max_file_size,
        config=config,
        no_config=no_config,
        jobs=jobs,
        matcher=matcher,
        baseline=baseline,
        rules=tuple(rules or ()),
    )
    return run_scan(request)


@app.command()
def history(
    repo: Annotated[Path, typer.Argument(help="Repository to audit (work tree or bare).")] = Path(
        "."
    ),
    branch: Annotated[str | None, typer.Option("--branch", help="Only this branch.")] = None,
    rev_range: Annotated[str | None, typer.Option("--range", help="Only commits in A..B.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only commits not reachable from REV.")
    ] = None,
    output_format: FormatOpt = "text",
    output: OutputOpt = None,
    show_secrets: ShowOpt = False,
    max_file_size: Annotated[
        str | None,
        typer.Option("--max-file-size", help="Skip blobs larger than this (default 10MB)."),
    ] = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    jobs: JobsOpt = 0,
    matcher: MatcherOpt = "auto",
    baseline: BaselineOpt = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither use nor update the re-audit cache.")
    ] = False,
) -> int:
    """Audit the whole history of a git repository: every blob once, every leak attributed."""
    from keyguard.run import HistoryRequest, run_history

    request = HistoryRequest(
        repo=repo,
        branch=branch,
        rev_range=rev_range,
        since=since,
        output_format=output_format,
        output=output,
        show_secrets=show_secrets,
        max_file_size=max_file_size,
        config=config,
        no_config=no_config,
        jobs=jobs,
        matcher=matcher,
        no_cache=no_cache,
        baseline=baseline,
    )
    return run_history(request)


MaxSizeOpt = Annotated[
    str | None,
    typer.Option("--max-file-size", help="Skip blobs larger than this (default 10MB)."),
]
RepoOpt = Annotated[Path, typer.Option("--repo", help="The repository (default: here).")]


@app.command()
def staged(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="Only these files (as the pre-commit framework passes them)."),
    ] = None,
    repo: RepoOpt = Path("."),
    output_format: FormatOpt = "text",
    output: OutputOpt = None,
    show_secrets: ShowOpt = False,
    max_file_size: MaxSizeOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    matcher: MatcherOpt = "auto",
    baseline: BaselineOpt = None,
) -> int:
    """Scan the staged changes for secrets the commit would introduce (a pre-commit hook)."""
    from keyguard.hooks.staged import run_staged

    return run_staged(
        tuple(files or ()),
        repo,
        output_format=output_format,
        output=output,
        show_secrets=show_secrets,
        config=config,
        no_config=no_config,
        max_file_size=max_file_size,
        matcher=matcher,
        baseline=baseline,
    )


@app.command("pre-push")
def pre_push(
    remote: Annotated[str | None, typer.Argument(help="Remote name (git passes it).")] = None,
    url: Annotated[str | None, typer.Argument(help="Remote URL (git passes it).")] = None,
    repo: RepoOpt = Path("."),
    output_format: FormatOpt = "text",
    output: OutputOpt = None,
    show_secrets: ShowOpt = False,
    max_file_size: MaxSizeOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    jobs: JobsOpt = 0,
    matcher: MatcherOpt = "auto",
    baseline: BaselineOpt = None,
) -> int:
    """Scan the commits being pushed that the remote does not have (a pre-push hook)."""
    import os

    from keyguard.hooks.push import run_pre_push

    env = dict(os.environ)
    from_framework = "PRE_COMMIT_TO_REF" in env or "PRE_COMMIT_LOCAL_BRANCH" in env
    if sys.stdin.isatty() and not from_framework:
        raise UsageError("keyguard pre-push reads git's pre-push hook input on stdin")
    stdin = "" if from_framework else sys.stdin.read()
    return run_pre_push(
        repo,
        remote,
        stdin,
        env,
        output_format=output_format,
        output=output,
        show_secrets=show_secrets,
        config=config,
        no_config=no_config,
        max_file_size=max_file_size,
        matcher=matcher,
        jobs=jobs,
        baseline=baseline,
    )


@app.command("pre-receive")
def pre_receive(
    repo: RepoOpt = Path("."),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Server-side rules file (default: git config keyguard.config)."
        ),
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget", help="Seconds the hook may take (default 4.5; keyguard.timeBudget)."
        ),
    ] = None,
    overrun: Annotated[
        str | None,
        typer.Option(
            "--overrun", help="Past the budget: fail (default) or pass (keyguard.overrun)."
        ),
    ] = None,
    max_blob_size: Annotated[
        str | None,
        typer.Option("--max-blob-size", help="Skip blobs larger than this (keyguard.maxBlobSize)."),
    ] = None,
    max_findings: Annotated[
        int | None,
        typer.Option("--max-findings", help="Findings shown in a rejection (default 20)."),
    ] = None,
    allow_bypass: Annotated[
        bool | None,
        typer.Option(
            "--allow-bypass/--no-allow-bypass",
            help="Honour `git push -o keyguard-bypass` (logged; keyguard.allowBypass).",
        ),
    ] = None,
    bypass_log: Annotated[
        Path | None,
        typer.Option("--bypass-log", help="Where bypasses are logged (keyguard.bypassLog)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="Server-side baseline of known findings (keyguard.baseline)."
        ),
    ] = None,
    jobs: JobsOpt = 0,
    matcher: MatcherOpt = "auto",
) -> int:
    """Reject a push that brings new secrets (a server-side pre-receive hook; reads stdin)."""
    import os

    from keyguard.cli import STARTED
    from keyguard.hooks.receive import ReceiveFlags, run_pre_receive

    flags = ReceiveFlags(
        config=config,
        time_budget=time_budget,
        overrun=overrun,
        max_blob_size=max_blob_size,
        max_findings=max_findings,
        allow_bypass=allow_bypass,
        bypass_log=bypass_log,
        matcher=matcher,
        jobs=jobs,
        baseline=baseline,
    )
    if sys.stdin.isatty():
        raise UsageError("keyguard pre-receive reads git's pre-receive hook input on stdin")
    return run_pre_receive(repo, flags, sys.stdin.read(), dict(os.environ), STARTED)


@app.command("github-action", hidden=True)
def github_action(
    max_file_size: MaxSizeOpt = None,
    jobs: JobsOpt = 0,
    matcher: MatcherOpt = "auto",
) -> int:
    """Run as the GitHub Action's scan step (reads the GITHUB_* and INPUT_* variables)."""
    import os

    from keyguard.ci.github import run_action

    return run_action(dict(os.environ), max_file_size=max_file_size, matcher=matcher, jobs=jobs)


@app.command("install-hook")
def install_hook(
    kind: Annotated[str, typer.Argument(help="pre-commit, pre-push or pre-receive.")],
    repo: RepoOpt = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Replace a hook keyguard did not install.")
    ] = False,
) -> int:
    """Install a plain git hook that runs keyguard (honours core.hooksPath)."""
    from keyguard.hooks.install import install

    target = install(kind, repo, force)
    from keyguard.report.model import printable

    typer.echo(f"installed {kind} hook: {printable(str(target))}")
    if kind == "pre-receive":
        # The first push would otherwise pay for compiling the rules (~0.5 s of the budget).
        from keyguard.engine import compile_default

        compile_default()
        typer.echo(
            "compiled the rules into this user's cache; if the git server runs hooks as another "
            "user, run this command as that user"
        )
    return ExitCode.CLEAN


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="A rule id, as findings name it (github.pat).")],
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Print what a rule finds and its whole remediation playbook."""
    import difflib

    from keyguard.hygiene import ASSESSMENTS
    from keyguard.remediation import load_builtin_playbooks, merge
    from keyguard.report.explain import Subject, format_explain
    from keyguard.run import load_config
    from keyguard.signatures import load_builtin

    cfg = load_config(config, no_config, Path.cwd())
    subjects = {r.id: Subject.of_rule(r) for r in [*load_builtin(), *cfg.rules]}
    subjects |= {a.id: Subject.of_assessment(a) for a in ASSESSMENTS.values()}
    subject = subjects.get(rule_id)
    if subject is None:
        close = difflib.get_close_matches(rule_id, list(subjects), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(
            f"unknown rule {rule_id!r}{hint}; `keyguard signatures list` lists them all"
        )
    typer.echo(format_explain(subject, merge(load_builtin_playbooks(), cfg.playbooks)), nl=False)
    return ExitCode.CLEAN


@app.command("purge-plan")
def purge_plan(
    report: Annotated[
        str, typer.Argument(help="A keyguard JSON report (--format json); '-' reads stdin.")
    ],
    repo: Annotated[
        Path, typer.Option("--repo", help="Where to re-read redacted values (default: here).")
    ] = Path("."),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            callback=_destination,
            help="The file to write (keyguard-replacements.txt).",
        ),
    ] = None,
    replacement: Annotated[
        str | None,
        typer.Option("--replacement", help="What each value becomes (***REMOVED-BY-KEYGUARD***)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Write the replacements file for `git filter-repo --replace-text` and the purge steps."""
    from keyguard import purge
    from keyguard.engine import CompiledRuleset
    from keyguard.run import prepare
    from keyguard.sources import git

    def rules() -> CompiledRuleset:
        # The rules `keyguard history` would run in that repository.
        root = git.toplevel(repo) or repo
        return prepare(config, no_config, root, "auto", None).compiled

    return purge.run_purge_plan(
        report,
        repo,
        output or purge.DEFAULT_OUTPUT,
        purge.DEFAULT_REPLACEMENT if replacement is None else replacement,
        force,
        rules,
    )


baseline_app = typer.Typer(help="Known findings to leave out of later scans.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


def _baseline(
    action: str,
    path: Path,
    output: Path | None,
    history: bool,
    force: bool,
    config: Path | None,
    no_config: bool,
) -> int:
    from keyguard.baseline_command import run_baseline

    return run_baseline(
        action,
        path,
        output=output,
        history=history,
        force=force,
        config=config,
        no_config=no_config,
    )


BaselinePath = Annotated[Path, typer.Argument(help="What to scan (default: here).")]
BaselineOut = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        callback=_destination,
        help="The baseline (default: PATH/.keyguard-baseline).",
    ),
]
BaselineHistory = Annotated[
    bool, typer.Option("--history", help="From the whole history, not the working tree.")
]


@baseline_app.command("create")
def baseline_create(
    path: BaselinePath = Path("."),
    output: BaselineOut = None,
    history: BaselineHistory = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing baseline.")] = False,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Write every current finding into a new baseline."""
    return _baseline("create", path, output, history, force, config, no_config)


@baseline_app.command("update")
def baseline_update(
    path: BaselinePath = Path("."),
    output: BaselineOut = None,
    history: BaselineHistory = False,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Add the current findings to the baseline (its entries stay)."""
    return _baseline("update", path, output, history, False, config, no_config)


@baseline_app.command("prune")
def baseline_prune(
    path: BaselinePath = Path("."),
    output: BaselineOut = None,
    history: BaselineHistory = False,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Drop the entries no current finding matches."""
    return _baseline("prune", path, output, history, False, config, no_config)


import_app = typer.Typer(help="Translate another scanner's configuration.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("gitleaks")
def import_gitleaks(
    path: Annotated[
        Path, typer.Argument(help="A .gitleaks.toml, or the folder holding one (default: here).")
    ] = Path("."),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The file to write ('-': stdout; default: .keyguard.toml)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> int:
    """Write a .keyguard.toml that does what a .gitleaks.toml (and .gitleaksignore) does."""
    from keyguard.importers.convert import run_import_gitleaks

    return run_import_gitleaks(path, output, force)


@signatures_app.command("check")
def signatures_check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Rule files to check (default: the built-in rules).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for generated examples.")] = None,
    matcher: MatcherOpt = "auto",
) -> int:
    """Run every rule's examples and negative examples through the whole engine."""
    import tomllib

    from keyguard.check import Problem, check_playbooks, check_rules
    from keyguard.engine import compile_ruleset
    from keyguard.remediation import load_builtin_playbooks, merge, parse_playbooks
    from keyguard.safety import rule_problem
    from keyguard.signatures import Ruleset, load_builtin, load_file

    builtin = load_builtin()
    extra = [rule for path in files or [] for rule in load_file(path)]
    playbooks = load_builtin_playbooks()
    for path in files or []:
        # A user's rule file may bring the playbooks its rules name.
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        playbooks = merge(playbooks, parse_playbooks(table.get("playbook", []), str(path)))
    checked_ids = {r.id for r in extra} if files else {r.id for r in builtin}
    extra_ids = {r.id for r in extra}
    # Check user rules alongside the built-ins, as a scan would run them.
    rules = [r for r in builtin if r.id not in extra_ids] + extra
    compiled = compile_ruleset(Ruleset.of(rules), matcher)
    found = [*check_rules(compiled, seed), *check_playbooks(rules, playbooks)]
    # The same probe `scan` runs on a user's rules at load (built-ins are probed in CI).
    unsafe = ((r, rule_problem(r)) for r in extra)
    found += [Problem(r.id, r.source, why) for r, why in unsafe if why is not None]
    problems = [p for p in found if p.rule_id in checked_ids]
    from keyguard.report.model import printable

    for problem in problems:
        typer.echo(printable(str(problem)), err=True)  # quotes the user's rule files
    typer.echo(
        f"{len(checked_ids)} rules checked, "
        f"{sum(len(r.examples) + len(r.negative_examples) for r in rules if r.id in checked_ids)} "
        f"examples, {len(problems)} problem{'s' * (len(problems) != 1)}"
    )
    return ExitCode.FINDINGS if problems else ExitCode.CLEAN


@signatures_app.command("list")
def signatures_list(
    output_format: FormatOpt = "text",
) -> int:
    """List the built-in rules."""
    import json

    from keyguard.signatures import load_builtin

    rules = load_builtin()
    if output_format == "text":
        for rule in rules:
            typer.echo(f"{rule.id:40} {rule.category:12} {rule.severity:9} {rule.title}")
        typer.echo(f"{len(rules)} rules")
    else:
        rows = [
            {
                "id": r.id,
                "title": r.title,
                "provider": r.provider,
                "category": r.category,
                "severity": r.severity,
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    return ExitCode.CLEAN


@app.command()
def fleet(
    repo_list: Annotated[
        str | None,
        typer.Argument(help="File of clone URLs or local paths, one a line ('-' reads stdin)."),
    ] = None,
    github_org: Annotated[
        str | None,
        typer.Option("--github-org", help="Also every repository of this GitHub organisation."),
    ] = None,
    gitlab_group: Annotated[
        str | None,
        typer.Option("--gitlab-group", help="Also every project of this GitLab group."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="The API's base URL (GitHub Enterprise, self-hosted GitLab)."
        ),
    ] = None,
    scheduler: Annotated[
        str,
        typer.Option(
            "--scheduler",
            help="local (an embedded cluster on 127.0.0.1), sync (this process), or tcp://HOST:8786.",
        ),
    ] = "local",
    workers: Annotated[
        int, typer.Option("--workers", help="Workers of the embedded cluster (default: cores).")
    ] = 0,
    workdir: Annotated[
        Path | None,
        typer.Option("--workdir", help="Where mirrors are kept (default ~/.cache/keyguard/fleet)."),
    ] = None,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log",
            help="JSONL log each result is appended to; a rerun skips what has not changed "
            "(default: WORKDIR/audit-log.jsonl).",
        ),
    ] = None,
    max_repo_size: Annotated[
        str | None,
        typer.Option(
            "--max-repo-size", help="Skip repositories whose mirror grows past this (e.g. 2GB)."
        ),
    ] = None,
    repo_timeout: Annotated[
        float | None,
        typer.Option("--repo-timeout", help="Seconds one repository's mirror and audit may take."),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option("--format", "-f", help="Report format: text, json, jsonl, sarif, html."),
    ] = "text",
    output: OutputOpt = None,
    show_secrets: ShowOpt = False,
    max_file_size: MaxSizeOpt = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Rules and allowlists for every repository (default: none; never a file from "
            "the repositories).",
        ),
    ] = None,
    matcher: MatcherOpt = "auto",
) -> int:
    """Audit the whole history of many repositories on a Dask cluster, and the estate's keys."""
    from keyguard.fleet.command import FleetRequest, run_fleet

    request = FleetRequest(
        repo_list=repo_list,
        github_org=github_org,
        gitlab_group=gitlab_group,
        api_url=api_url,
        scheduler=scheduler,
        workers=workers,
        workdir=workdir,
        audit_log=audit_log,
        max_repo_size=max_repo_size,
        repo_timeout=repo_timeout,
        output_format=output_format,
        output=output,
        show_secrets=show_secrets,
        max_file_size=max_file_size,
        config=config,
        matcher=matcher,
    )
    return run_fleet(request, sys.stdin.read)
