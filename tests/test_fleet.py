"""`keyguard fleet` on real bare repositories (built with git, dates pinned) cloned over
file:// URLs, on the embedded Dask cluster (two worker processes, shared by the module).

Every secret is generated at test time. What is shown: the fleet report equals the merge of
separate `keyguard history` runs; broken repositories are named with their reasons; a key in
three repositories is one reuse finding; a worker killed mid-run loses no repository; Ctrl-C
and a rerun with the same audit log audit each repository once; the cluster listens on
loopback only.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.examples import expand, generate_secret
from keyguard.fleet import cluster as fleet_cluster
from keyguard.fleet.repolist import Source, display_url, parse
from keyguard.signatures import load_builtin

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

RULES = {r.id: r for r in load_builtin()}
GOOD = 18  # plus one corrupt and one unreachable: 20 listed
SHARED = (2, 7, 11)  # the repositories one key is planted in
ROOT_KEY_REPO = 5
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(cwd: Path, *args: str, date: str = "2024-01-02T03:04:05+00:00", home: Path) -> None:
    env = {
        **os.environ,
        **_GIT_ENV,
        "HOME": str(home),
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@dataclass
class Estate:
    root: Path
    good: list[Path] = field(default_factory=list)
    corrupt: Path = Path()
    unreachable: str = ""
    shared_secret: str = ""
    secrets: list[str] = field(default_factory=list)

    def url(self, bare: Path) -> str:
        return bare.as_uri()

    @property
    def listing(self) -> Path:
        return self.root / "repos.txt"


def _make_repo(estate: Estate, n: int, rng: random.Random, home: Path) -> Path:
    work = estate.root / "work" / f"project-{n:02d}"
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main", home=home)
    (work / "README.md").write_text(f"project {n}\n", encoding="utf-8")
    _git(work, "add", "-A", home=home)
    _git(work, "commit", "-q", "-m", "start", date=f"2024-02-{n % 27 + 1:02d}T10:00:00Z", home=home)
    if n % 3 == 0 or n in SHARED:
        token = generate_secret(RULES["github.pat"], rng)
        estate.secrets.append(token)
        (work / "settings.py").write_text(f'TOKEN = "{token}"\n', encoding="utf-8")
    if n in SHARED:
        (work / f"deploy/env-{n}.sh").parent.mkdir(exist_ok=True)
        (work / f"deploy/env-{n}.sh").write_text(
            f"export GH_TOKEN={estate.shared_secret}\n", encoding="utf-8"
        )
    if n == ROOT_KEY_REPO:
        rule = RULES["aws.root-key-csv"]
        (work / "rootkey.csv").write_text(expand(rule.examples[0], rule, rng), encoding="utf-8")
    _git(work, "add", "-A", home=home)
    _git(
        work,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "work",
        date=f"2024-03-{n % 27 + 1:02d}T10:00:00Z",
        home=home,
    )
    if n % 4 == 0:
        _git(work, "checkout", "-q", "-b", "feature", home=home)
        (work / "notes.txt").write_text("more\n", encoding="utf-8")
        _git(work, "add", "-A", home=home)
        _git(work, "commit", "-q", "-m", "notes", date="2024-04-01T10:00:00Z", home=home)
        _git(work, "checkout", "-q", "main", home=home)
    bare = estate.root / "bare" / f"project-{n:02d}.git"
    bare.parent.mkdir(exist_ok=True)
    _git(estate.root, "clone", "-q", "--bare", str(work), str(bare), home=home)
    return bare


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    root = tmp_path_factory.mktemp("estate")
    home = root / "home"
    home.mkdir()
    rng = random.Random("keyguard fleet estate")
    made = Estate(root)
    made.shared_secret = generate_secret(RULES["github.pat"], rng)
    made.good = [_make_repo(made, n, rng, home) for n in range(GOOD + 1)]
    made.corrupt = made.good.pop()
    # Overwrite every loose object of the last repository: git's transport refuses to send it.
    for obj in (made.corrupt / "objects").glob("??/*"):
        obj.chmod(0o644)
        obj.write_bytes(b"not a zlib stream")
    made.unreachable = (root / "bare" / "gone.git").as_uri()
    lines = ["# the estate", ""]
    lines += [made.url(b) for b in made.good[:10]]
    lines += [made.url(made.corrupt), made.unreachable, "  # indented comment"]
    lines += [str(b) for b in made.good[10:]]  # local paths work as well as URLs
    made.listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return made


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """The command's own embedded cluster (two worker processes), shared by the module."""
    with fleet_cluster.connect(fleet_cluster.LOCAL, 2) as executor:
        assert isinstance(executor, fleet_cluster._Dask)
        yield executor.client


def _fleet(*args: str | Path) -> int:
    return main(["fleet", *map(str, args)])


def _name(estate: Estate, bare: Path) -> str:
    index = estate.good.index(bare)
    return estate.url(bare) if index < 10 else str(bare)


@pytest.fixture(scope="module")
def first_run(
    estate: Estate, dask_cluster: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("run")
    report = out / "fleet.json"
    code = _fleet(
        estate.listing,
        "--scheduler",
        dask_cluster.scheduler.address,
        "--workdir",
        out / "mirrors",
        "--audit-log",
        out / "audit.jsonl",
        "--format",
        "json",
        "-o",
        report,
    )
    return {
        "code": code,
        "report": json.loads(report.read_text(encoding="utf-8")),
        "dir": out,
        "log": out / "audit.jsonl",
    }


def test_fleet_report_is_the_merge_of_history_runs(
    estate: Estate, first_run: dict[str, Any], tmp_path: Path
) -> None:
    report = first_run["report"]
    assert first_run["code"] == 3  # two repositories were not audited
    assert report["schema"] == "keyguard.fleet/1"
    repos = {r["repository"]: r for r in report["repositories"]}
    assert len(repos) == GOOD + 2
    total = 0
    for bare in estate.good:
        target = tmp_path / f"{bare.name}.json"
        code = main(
            [
                "history",
                str(bare),
                "--no-config",
                "--no-cache",
                "--format",
                "json",
                "-o",
                str(target),
            ]
        )
        alone = json.loads(target.read_text(encoding="utf-8"))
        entry = repos[_name(estate, bare)]
        assert entry["status"] == "audited"
        assert code == (1 if alone["findings"] else 0)
        assert entry["findings"] == alone["findings"]
        for key in ("commits", "blobs", "files", "bytes", "ruleset", "digest_key", "complete"):
            assert entry["scan"][key] == alone["scan"][key], key
        total += len(alone["findings"])
        assert set(entry["refs"]) >= {"refs/heads/main"}
    assert report["fleet"]["findings"] == total + len(report["estate"]["reuse"])
    assert total > 0


def test_broken_repositories_are_named_with_reasons(
    estate: Estate, first_run: dict[str, Any]
) -> None:
    report = first_run["report"]
    missing = {m["repository"]: m["reason"] for m in report["not_audited"]}
    assert set(missing) == {estate.url(estate.corrupt), estate.unreachable}
    assert missing[estate.unreachable].startswith("cannot list its refs")
    assert missing[estate.url(estate.corrupt)].startswith("cannot clone")
    assert report["fleet"]["complete"] is False
    assert report["fleet"]["not_audited"] == 2


def test_a_key_in_three_repositories_is_one_reuse_finding(
    estate: Estate, first_run: dict[str, Any]
) -> None:
    reuse = first_run["report"]["estate"]["reuse"]
    assert len(reuse) == 1
    (finding,) = reuse
    assert finding["rule_id"] == "hygiene.key-reuse"
    assert "3 repositories" in finding["title"]
    shared = [estate.good[n] for n in SHARED]
    named = {place.split(": ", 1)[0] for place in finding["places"]}
    assert named == {_name(estate, b) for b in shared}
    assert {place.split(": ", 1)[1].split(":")[0] for place in finding["places"]} == {
        f"deploy/env-{n}.sh" for n in SHARED
    }
    # Matched by keyed digest: no value anywhere in the report.
    text = json.dumps(first_run["report"])
    assert estate.shared_secret not in text
    assert all(secret not in text for secret in estate.secrets)


def test_root_and_overdue_keys_come_first(estate: Estate, first_run: dict[str, Any]) -> None:
    act = first_run["report"]["estate"]
    assert {f["repository"] for f in act["root_keys"]} == {
        _name(estate, estate.good[ROOT_KEY_REPO])
    }
    assert all(f["category"] == "root-key" for f in act["root_keys"])
    assert act["overdue"] and all(
        f["rule_id"] == "hygiene.rotation-overdue" for f in act["overdue"]
    )


def test_log_has_one_line_per_repository_and_no_values(
    estate: Estate, first_run: dict[str, Any]
) -> None:
    lines = first_run["log"].read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == GOOD + 2
    assert {e["name"] for e in entries} == set(
        {r["repository"] for r in first_run["report"]["repositories"]}
    )
    text = "\n".join(lines)
    assert all(secret not in text for secret in [*estate.secrets, estate.shared_secret])
    assert oct(first_run["log"].stat().st_mode & 0o777) == "0o600"
    audited = [e for e in entries if e["status"] == "audited"]
    assert all(e["refs"] and e["ruleset"] and e["digest_key"] for e in audited)


@pytest.mark.parametrize("output_format", ["text", "sarif", "html", "jsonl"])
def test_rerun_from_the_log_renders_every_format(
    estate: Estate, first_run: dict[str, Any], dask_cluster: Any, output_format: str
) -> None:
    """Nothing changed: every repository is restored from the log (only `ls-remote` runs)."""
    before = first_run["log"].read_text(encoding="utf-8").count("\n")
    target = first_run["dir"] / f"again.{output_format}"
    code = _fleet(
        estate.listing,
        "--scheduler",
        dask_cluster.scheduler.address,
        "--workdir",
        first_run["dir"] / "mirrors",
        "--audit-log",
        first_run["log"],
        "--format",
        output_format,
        "-o",
        target,
    )
    assert code == 3
    after = first_run["log"].read_text(encoding="utf-8").count("\n")
    assert after == before + 2  # only the two broken ones are tried (and logged) again
    text = target.read_text(encoding="utf-8")
    assert all(secret not in text for secret in [*estate.secrets, estate.shared_secret])
    if output_format == "text":
        assert text.startswith("Act first, across the estate")
        assert "Keys reused across repositories" in text
        assert text.count("(unchanged)") == GOOD
        assert "2 NOT AUDITED" in text.splitlines()[-1]
    elif output_format == "sarif":
        runs = json.loads(text)["runs"]
        assert len(runs) == GOOD + 2
        failed = [r for r in runs if not r["invocations"][0]["executionSuccessful"]]
        assert {r["properties"]["repository"] for r in failed} == {
            estate.url(estate.corrupt),
            estate.unreachable,
        }
        results = sum(len(r["results"]) for r in runs)
        assert results == first_run["report"]["fleet"]["findings"]
    elif output_format == "html":
        assert '<section id="repositories">' in text
        assert text.index('id="repositories"') < text.index('id="priority"')
        assert "root key" in text and "3 repositories" in text
    else:
        lines = [json.loads(line) for line in text.splitlines()]
        assert len(lines) == first_run["report"]["fleet"]["findings"]
        assert {line["repository"] for line in lines} >= {
            _name(estate, estate.good[n]) for n in SHARED
        }


def test_a_worker_killed_mid_run_loses_no_repository(
    estate: Estate, dask_cluster: Any, tmp_path: Path
) -> None:
    killed: dict[str, Any] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "pid" not in killed:
            busy = {w: keys for w, keys in dask_cluster.processing().items() if keys}
            if busy and (tmp_path / "audit.jsonl").exists():
                address, keys = next(iter(busy.items()))
                pid = dask_cluster.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                killed.update(pid=pid, keys=list(keys))
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        code = _fleet(
            estate.listing,
            "--scheduler",
            dask_cluster.scheduler.address,
            "--workdir",
            tmp_path / "mirrors",
            "--audit-log",
            tmp_path / "audit.jsonl",
            "--format",
            "json",
            "-o",
            tmp_path / "fleet.json",
        )
    finally:
        killer.join()
        dask_cluster.wait_for_workers(2, timeout=60)
    assert "pid" in killed, "no worker was busy"
    report = json.loads((tmp_path / "fleet.json").read_text(encoding="utf-8"))
    assert code == 3
    statuses = {r["repository"]: r["status"] for r in report["repositories"]}
    assert all(statuses[_name(estate, b)] == "audited" for b in estate.good)
    # The task the dead worker was running finished on another worker process.
    entries = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    key = str(killed["keys"][0])
    (victim,) = [e for e in entries if Source(e["name"]).mirror_name in key]
    assert not victim["worker"].endswith(f":{killed['pid']}")


def test_sigint_then_rerun_audits_each_repository_once(
    estate: Estate, dask_cluster: Any, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    command = [
        sys.executable,
        "-m",
        "keyguard",
        "fleet",
        str(estate.listing),
        "--workers",
        "1",
        "--workdir",
        str(tmp_path / "mirrors"),
        "--audit-log",
        str(log),
        "--format",
        "json",
        "-o",
        str(tmp_path / "first.json"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 3):
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert b"interrupted" in stderr
    first = [json.loads(x) for x in log.read_text().splitlines()]
    done_first = {e["name"] for e in first if e["status"] == "audited"}
    assert 3 <= len(first) < GOOD + 2
    interrupted = json.loads((tmp_path / "first.json").read_text())
    assert interrupted["fleet"]["not_audited"] > 2  # the rest is named as not audited

    # Resume on the shared cluster: only what the first run did not finish is audited.
    command[command.index("--workers") : command.index("--workers") + 2] = [
        "--scheduler",
        dask_cluster.scheduler.address,
    ]
    command[-1] = str(tmp_path / "second.json")
    done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    audited = [e["name"] for e in entries if e["status"] == "audited"]
    assert sorted(audited) == sorted(set(audited))  # none audited twice
    assert len(audited) == GOOD
    second = json.loads((tmp_path / "second.json").read_text())
    statuses = {r["repository"]: r["status"] for r in second["repositories"]}
    assert {n for n, s in statuses.items() if s == "unchanged"} == done_first


def test_the_embedded_cluster_listens_on_loopback_only(dask_cluster: Any) -> None:
    assert dask_cluster.scheduler.address.startswith("tcp://127.0.0.1:")
    # Its HTTP endpoint (health, metrics) too, on a free port rather than 8787.
    assert dask_cluster.scheduler_info()["services"].get("dashboard") != 8787
    pids = {os.getpid(), *dask_cluster.run(os.getpid).values()}
    pids |= {p.pid for p in psutil.Process().children(recursive=True)}
    listening = [
        (pid, c.laddr)
        for pid in pids
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening  # the scheduler, the workers and their nannies
    assert all(addr.ip == "127.0.0.1" for _, addr in listening), listening


# --- the sync scheduler: budgets, lists, redaction ------------------------------------------


def test_size_and_time_budgets_fail_one_repository_each(estate: Estate, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    _git(big, "init", "-q", "-b", "main", home=home)
    (big / "data.bin").write_bytes(random.Random(1).randbytes(200_000))
    _git(big, "add", "-A", home=home)
    _git(big, "commit", "-q", "-m", "data", home=home)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{big.as_uri()}\n{estate.url(estate.good[1])}\n", encoding="utf-8")
    common = ("--scheduler", "sync", "--workdir", tmp_path / "m", "--format", "json")
    out = tmp_path / "size.json"
    assert _fleet(listing, *common, "--max-repo-size", "100KB", "-o", out) == 3
    report = json.loads(out.read_text())
    missing = {m["repository"]: m["reason"] for m in report["not_audited"]}
    assert list(missing) == [big.as_uri()]
    assert "size cap" in missing[big.as_uri()]
    assert not (tmp_path / "m" / Source(big.as_uri()).mirror_name).exists()

    out = tmp_path / "time.json"
    log = tmp_path / "time.jsonl"
    assert _fleet(listing, *common, "--repo-timeout", "0.001", "--audit-log", log, "-o", out) == 3
    report = json.loads(out.read_text())
    assert {m["repository"] for m in report["not_audited"]} == {
        big.as_uri(),
        estate.url(estate.good[1]),
    }
    assert all("time budget" in m["reason"] for m in report["not_audited"])


def test_list_from_stdin_and_show_secrets_stays_out_of_the_log(
    estate: Estate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = estate.good[3]  # 3 % 3 == 0: it holds a token
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"# one\n\n{estate.url(bare)}\n"))
    out, log = tmp_path / "fleet.json", tmp_path / "audit.jsonl"
    code = _fleet(
        "-",
        "--scheduler",
        "sync",
        "--workdir",
        tmp_path / "m",
        "--audit-log",
        log,
        "--show-secrets",
        "--format",
        "json",
        "-o",
        out,
    )
    assert code == 1
    report = json.loads(out.read_text())
    (repo,) = report["repositories"]
    values = {f.get("secret") for f in repo["findings"]} - {None}
    assert values & set(estate.secrets)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not any(secret in log.read_text() for secret in estate.secrets)


def test_repository_list_parsing() -> None:
    text = "# estate\n\n  https://example.invalid/a.git  \nhttps://example.invalid/a.git\nrel/b\n"
    sources = parse(text, Path("/srv"))
    assert [s.url for s in sources] == ["https://example.invalid/a.git", "/srv/rel/b"]
    assert len({s.mirror_name for s in sources}) == 2
    with pytest.raises(Exception, match="not a URL or path"):
        parse("--upload-pack=touch\n", Path("/srv"))


def test_credentials_in_urls_never_reach_names() -> None:
    word = "".join(random.Random(7).choices("abcdefghij", k=12))
    url = f"https://user:{word}@example.invalid/org/repo.git"
    assert display_url(url) == "https://example.invalid/org/repo.git"
    assert word not in Source(url).mirror_name
    assert display_url("git@example.invalid:org/repo.git") == "git@example.invalid:org/repo.git"


def test_other_commands_do_not_import_dask() -> None:
    probe = (
        "import sys; from keyguard.cli import main; main(['scan', '--help']); "
        "sys.exit(3 if 'distributed' in sys.modules or 'dask' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_usage_errors(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("# nothing\n", encoding="utf-8")
    common = ("--scheduler", "sync", "--workdir", tmp_path / "m")
    assert _fleet(listing, *common) == 2  # an empty list
    listing.write_text("/srv/a.git\n", encoding="utf-8")
    assert _fleet(listing, *common, "--format", "github") == 2
    assert _fleet(listing, *common, "--scheduler", "http://example.invalid") == 2
    assert _fleet(tmp_path / "missing.txt", *common) == 2


def test_digests_under_another_key_are_not_matched(
    estate: Estate, first_run: dict[str, Any]
) -> None:
    """A worker with another KEYGUARD_DIGEST_KEY: its repository is named, not matched."""
    from keyguard.fleet.report import build
    from keyguard.fleet.task import RepoResult
    from keyguard.run import prepare

    shared = {_name(estate, estate.good[n]) for n in SHARED}
    results = []
    for repo in first_run["report"]["repositories"]:
        if repo["repository"] not in shared:
            continue
        scan = dict(repo["scan"])
        if len(results) == 0:
            scan["digest_key"] = "0" * 16
        results.append(
            RepoResult(repo["repository"], "audited", "", repo["refs"], scan, repo["findings"])
        )
    report = build(results, prepare(None, True, Path.cwd(), "auto", None), 0.0)
    (reuse,) = report.reuse
    assert "2 repositories" in reuse.finding.title
    assert len(report.notes) == 1 and results[0].name in report.notes[0]


def test_a_log_line_cut_short_is_passed_over(tmp_path: Path) -> None:
    from keyguard.fleet import log
    from keyguard.fleet.task import RepoResult

    path = tmp_path / "audit.jsonl"
    log.append(path, RepoResult("file:///a.git", "audited", refs={"refs/heads/main": "1" * 40}))
    log.append(path, RepoResult("file:///b.git", "failed", "cannot clone: gone"))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"schema": "keyguard.fleet-log/1", "name": "file:///a.git", "sta')
    loaded = log.load(path)
    assert set(loaded) == {"file:///a.git", "file:///b.git"}
    assert loaded["file:///a.git"].refs == {"refs/heads/main": "1" * 40}
    assert log.reusable(loaded["file:///b.git"], "", "") is None


def test_progress_bar_on_a_terminal_only(estate: Estate, tmp_path: Path) -> None:
    import pty
    import select

    listing = tmp_path / "list.txt"
    listing.write_text(f"{estate.url(estate.good[1])}\n{estate.unreachable}\n", encoding="utf-8")
    command = [sys.executable, "-m", "keyguard", "fleet", str(listing), "--scheduler", "sync"]
    command += ["--workdir", str(tmp_path / "m"), "--format", "json", "-o", str(tmp_path / "r")]
    master, slave = pty.openpty()
    process = subprocess.Popen(command, stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while select.select([master], [], [], 60)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait() == 3
    assert b"auditing repositories" in seen and b"1 done, 1 failed" in seen
    piped = subprocess.run(command, capture_output=True, check=False)
    assert piped.returncode == 3
    assert b"auditing repositories" not in piped.stderr


def test_a_changed_repository_is_re_audited_incrementally(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work, bare = tmp_path / "work", tmp_path / "repo.git"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main", home=home)
    (work / "a.txt").write_text("one\n", encoding="utf-8")
    _git(work, "add", "-A", home=home)
    _git(work, "commit", "-q", "-m", "one", home=home)
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(bare), home=home)
    listing = tmp_path / "list.txt"
    listing.write_text(bare.as_uri() + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    args = ("--scheduler", "sync", "--workdir", tmp_path / "m", "--format", "json", "-o", out)

    def run() -> dict[str, Any]:
        assert _fleet(listing, *args) == 0
        (repo,) = json.loads(out.read_text(encoding="utf-8"))["repositories"]
        return dict(repo)

    assert run()["status"] == "audited"
    assert run()["status"] == "unchanged"
    (work / "b.txt").write_text("two\n", encoding="utf-8")
    _git(work, "add", "-A", home=home)
    _git(work, "commit", "-q", "-m", "two", home=home)
    _git(work, "push", "-q", str(bare), "main", home=home)
    third = run()
    assert third["status"] == "audited"
    assert third["scan"]["commits"] == 2 and third["scan"]["files"] == 1  # only the new blob
    assert any("incremental" in note for note in third["scan"]["notes"])
    log = (tmp_path / "m" / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["status"] for line in log] == ["audited", "audited"]
