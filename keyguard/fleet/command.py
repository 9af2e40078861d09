"""`keyguard fleet`: gather the repositories, run one audit task each, log every result as it
arrives, then report on the whole estate and return the exit code."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from keyguard import config as config_mod
from keyguard import digest
from keyguard.console import write_report
from keyguard.errors import UsageError
from keyguard.fleet import cluster, listing, log, repolist
from keyguard.fleet.progress import fleet_bar
from keyguard.fleet.repolist import Source
from keyguard.fleet.report import FORMATS, build, exit_code, summary
from keyguard.fleet.task import FAILED, UNCHANGED, RepoResult, TaskSpec
from keyguard.fleet.views import format_fleet
from keyguard.report.model import printable

LOG_NAME = "audit-log.jsonl"
NOT_REACHED = "interrupted before it was audited"


@dataclass(frozen=True, slots=True)
class FleetRequest:
    repo_list: str | None = None
    github_org: str | None = None
    gitlab_group: str | None = None
    api_url: str | None = None
    scheduler: str = cluster.LOCAL
    workers: int = 0
    workdir: Path | None = None
    audit_log: Path | None = None
    max_repo_size: str | None = None
    repo_timeout: float | None = None
    output_format: str = "text"
    output: Path | None = None
    show_secrets: bool = False
    max_file_size: str | None = None
    config: Path | None = None
    matcher: str = "auto"


def default_workdir() -> Path:
    """$XDG_CACHE_HOME/keyguard/fleet (~/.cache/keyguard/fleet): mirrors are kept between
    runs, so a re-audit fetches only what is new and scans only new blobs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keyguard" / "fleet"


def gather(request: FleetRequest, read_stdin: Callable[[], str]) -> list[Source]:
    """The repositories to audit: the list's, then the organisation's and the group's."""
    if request.api_url and request.github_org and request.gitlab_group:
        raise UsageError("--api-url names one API: use it with --github-org or --gitlab-group")
    found: list[Source] = []
    if request.repo_list is not None:
        stdin = read_stdin() if request.repo_list == "-" else None
        found += repolist.read(request.repo_list, stdin)
    if request.github_org:
        urls = listing.github_repos(
            request.github_org, request.api_url, os.environ.get("GITHUB_TOKEN")
        )
        found += [Source(u) for u in urls]
    if request.gitlab_group:
        urls = listing.gitlab_projects(
            request.gitlab_group, request.api_url, os.environ.get("GITLAB_TOKEN")
        )
        found += [Source(u) for u in urls]
    unique: dict[str, Source] = {}
    for source in found:
        unique.setdefault(source.name, source)  # listed twice (a list and the API): once
    if not unique:
        raise UsageError(
            "no repositories to audit: give a list (REPO_LIST), --github-org or --gitlab-group"
        )
    return list(unique.values())


def run_fleet(request: FleetRequest, read_stdin: Callable[[], str]) -> int:
    from keyguard.run import prepare

    if request.output_format not in FORMATS:
        raise UsageError(
            f"--format {request.output_format}: fleet reports are {', '.join(FORMATS)}"
        )
    cluster.check_scheduler(request.scheduler)
    if request.workers < 0:
        raise UsageError("--workers must be a positive number")
    if request.repo_timeout is not None and request.repo_timeout <= 0:
        raise UsageError("--repo-timeout must be a positive number of seconds")
    max_repo = (
        config_mod.parse_size(request.max_repo_size, "--max-repo-size")
        if request.max_repo_size
        else None
    )
    config = request.config.resolve() if request.config else None
    # The rules every worker runs: the user's --config or none, never a file found in a
    # repository (or in this directory, which the workers do not see).
    ready = prepare(config, config is None, Path.cwd(), request.matcher, request.max_file_size)
    sources = gather(request, read_stdin)
    workdir = (request.workdir or default_workdir()).resolve()
    try:
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"{workdir}: cannot create the work directory: {exc.strerror}") from None
    log_path = request.audit_log or workdir / LOG_NAME
    earlier = log.load(log_path)
    log.check(log_path)
    key = digest.current().id
    specs = [
        TaskSpec(
            url=source.url,
            workdir=str(workdir),
            previous_refs=log.reusable(
                earlier.get(source.name), ready.compiled.ruleset.digest, key
            ),
            config=str(config) if config else None,
            matcher=request.matcher,
            max_file_size=request.max_file_size,
            max_repo_size=max_repo,
            timeout=request.repo_timeout,
            show_secrets=request.show_secrets,
        )
        for source in sources
    ]
    started = time.monotonic()
    results, interrupted = _run(request, specs, earlier, log_path)
    ordered = [results.get(s.name) or RepoResult(s.name, FAILED, NOT_REACHED) for s in sources]
    report = build(ordered, ready, time.monotonic() - started)
    for repository in report.not_audited:
        if repository.result.reason != NOT_REACHED:  # those are counted below, not listed
            say(f"note: not audited: {repository.name}: {repository.result.reason}")
    if interrupted:
        say(
            f"interrupted: {len(results)} of {len(sources)} repositories done; run again with "
            f"the same audit log ({log_path}) to resume"
        )
    _emit(
        format_fleet(report, request.output_format, request.show_secrets), request, summary(report)
    )
    return exit_code(report)


def _run(
    request: FleetRequest,
    specs: list[TaskSpec],
    earlier: dict[str, RepoResult],
    log_path: Path,
) -> tuple[dict[str, RepoResult], bool]:
    """Each result as it arrives, logged at once; Ctrl-C keeps what finished."""
    results: dict[str, RepoResult] = {}
    workers = request.workers or _cores()
    try:
        with (
            cluster.connect(request.scheduler, workers) as executor,
            fleet_bar(sys.stderr.isatty(), len(specs)) as advance,
        ):
            for result in executor.results(specs):
                if result.status == UNCHANGED and result.name in earlier:
                    # Its findings are those of its last audit, in the log.
                    result = replace(earlier[result.name], status=UNCHANGED)
                log.append(log_path, result)
                results[result.name] = result
                advance(result, min(len(specs) - len(results), executor.slots))
    except KeyboardInterrupt:
        return results, True
    return results, False


def _cores() -> int:
    from keyguard.driver import default_jobs

    return default_jobs()


def _emit(text: str, request: FleetRequest, line: str) -> None:
    if request.output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): its choice. Point stdout at /dev/null so
            # the interpreter's last flush cannot fail again on the way out.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return
    try:
        write_report(request.output, text, private=request.show_secrets)
    finally:
        print(line, file=sys.stderr)


def say(message: str) -> None:
    print(f"keyguard: {printable(message)}", file=sys.stderr)
