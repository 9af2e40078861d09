"""`keyguard purge-plan` on real repositories, rewritten by the real `git filter-repo`.

Every value is generated at test time. The main test commits a GitHub token (also base64-encoded
in a Kubernetes Secret), an AWS key pair and a PEM private key (as a file and escaped into JSON),
removes some of them again, audits the history into a redacted report, plans the purge, rewrites
a fresh clone with the file and audits the clone: nothing may be left.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard import purge
from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}
REMOVED = purge.DEFAULT_REPLACEMENT
FILTER_REPO = shutil.which("git-filter-repo") or shutil.which(
    "git-filter-repo", path=str(Path(sys.executable).parent)
)
needs_filter_repo = pytest.mark.skipif(FILTER_REPO is None, reason="git-filter-repo not installed")


def day(n: int) -> str:
    return f"2024-03-{n:02d}T12:00:00+00:00"


def make_secret(rule_id: str, rng: random.Random) -> str:
    return generate_secret(RULES[rule_id], rng)


def private_key_pem() -> str | None:
    """A real RSA key: `cryptography` if installed, else `openssl genpkey`, else None."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        done = subprocess.run(
            [openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout if done.returncode == 0 and "PRIVATE KEY" in done.stdout else None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def key_lines(pem: str) -> list[str]:
    """The lines of a key the plan replaces: its base64 body lines of 16 characters or more."""
    return [line for line in pem.splitlines() if len(line) >= 16 and "-----" not in line]


def scrubbed(pem: str) -> str:
    return "\n".join(REMOVED if line in key_lines(pem) else line for line in pem.splitlines())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def audit(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, Any]:
    code, out, err = run(
        capsys, "history", str(repo), "--format", "json", "--no-cache", "--jobs", "1", *args
    )
    assert code in (0, 1), err
    return code, json.loads(out)


def write_report(capsys: pytest.CaptureFixture[str], repo: Path, target: Path, *args: str) -> Any:
    code, _, err = run(
        capsys,
        "history",
        str(repo),
        "--format",
        "json",
        "-o",
        str(target),
        "--no-cache",
        "--jobs",
        "1",
        *args,
    )
    assert code == 1, err
    return json.loads(target.read_text(encoding="utf-8"))


def commit(repo: GitRepo, message: str, n: int) -> str:
    return repo.commit(message, date=day(n))


def filter_repo(clone: Path, env: dict[str, str], *args: str) -> None:
    assert FILTER_REPO is not None
    path = f"{Path(FILTER_REPO).parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run(
        ["git", "filter-repo", *args],
        cwd=clone,
        env={**env, "PATH": path},
        capture_output=True,
        check=True,
    )


def show(clone: Path, env: dict[str, str], subject: str, path: str) -> str:
    """A file as the rewritten commit with this subject holds it."""
    listing = subprocess.run(
        ["git", "log", "--all", "--format=%H %s"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sha = next(line.split(" ", 1)[0] for line in listing.splitlines() if line.endswith(subject))
    return subprocess.run(
        ["git", "show", f"{sha}:{path}"], cwd=clone, env=env, capture_output=True, check=True
    ).stdout.decode()


def everything(repo: Path, env: dict[str, str]) -> str:
    """Every blob of every commit reachable from any ref, as one text."""
    return subprocess.run(
        ["git", "log", "--all", "-p", "--binary", "--format=%H"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def file_literals(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[len("literal:") :].rsplit("==>", 1)[0] for line in lines if line.startswith("lit")]


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.nodeid)


@needs_filter_repo
def test_plan_rewrites_the_history_clean(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    token = make_secret("github.pat", rng)
    key_id = make_secret("aws.access-key-id", rng)
    secret_key = make_secret("aws.secret-access-key", rng)  # holds '/' and '+' as often as not
    encoded = base64.b64encode(token.encode()).decode()
    pem = private_key_pem()
    settings_py = f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret_key}"\n'
    # The plan's own comment lines, committed: they must rewrite nothing.
    notes = purge.format_replacements([], REMOVED, purge.header("report.json", 1, 1)).decode()
    repo.write("app.env", f"GITHUB_TOKEN={token}\n")
    repo.write("settings.py", settings_py)
    repo.write("notes.txt", notes)
    commit(repo, "add config", 1)
    if pem is not None:
        repo.write("deploy/id_rsa", pem)
        repo.write("deploy/key.json", json.dumps({"private_key": pem}) + "\n")
        commit(repo, "add deploy key", 2)
    repo.write("docs/setup.md", f"Use the token `{token}` to log in.\n")
    repo.write(
        "k8s/secret.yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ndata:\n  token: {encoded}\n",
    )
    commit(repo, "document setup", 3)
    repo.git("rm", "-q", "settings.py", "k8s/secret.yaml", *(["deploy/id_rsa"] if pem else []))
    repo.write("app.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")
    commit(repo, "remove secrets", 4)

    monkeypatch.chdir(tmp_path)
    report = write_report(capsys, repo.path, tmp_path / "report.json")
    assert all("secret" not in f for f in report["findings"])
    assert any(f["decoded"] == "base64" for f in report["findings"])

    code, out, err = run(capsys, "purge-plan", "report.json", "--repo", str(repo.path))
    assert code == 0, err
    plan = tmp_path / "keyguard-replacements.txt"
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    values = [token, key_id, secret_key, encoded, *(key_lines(pem) if pem else [])]
    for value in values:
        assert value not in out + err
    literals = file_literals(plan)
    assert sorted(literals) == sorted(values)  # one line per distinct value, nothing else
    assert literals == sorted(literals, key=lambda v: (-len(v), v))
    assert "holds the leaked values" in out and f"rm {plan}" in out
    assert "git filter-repo --sensitive-data-removal --replace-text" in out
    assert "keyguard explain github.pat" in out and "refs/pull/*" in out
    assert "git push --force --mirror origin" in out

    # The brief's way: a fresh clone, rewritten in place.
    clone = tmp_path / "clone"
    repo.git("clone", "-q", "--no-local", str(repo.path), str(clone))
    filter_repo(clone, repo.env, "--replace-text", str(plan), "--force")
    code, doc = audit(capsys, clone)
    assert (code, doc["findings"]) == (0, [])
    history = everything(clone, repo.env)
    for value in values:
        assert value not in history
    assert show(clone, repo.env, "add config", "app.env") == f"GITHUB_TOKEN={REMOVED}\n"
    assert show(clone, repo.env, "add config", "settings.py") == settings_py.replace(
        key_id, REMOVED
    ).replace(secret_key, REMOVED)
    assert show(clone, repo.env, "add config", "notes.txt") == notes
    assert show(clone, repo.env, "document setup", "docs/setup.md") == (
        f"Use the token `{REMOVED}` to log in.\n"
    )
    assert f"  token: {REMOVED}\n" in show(clone, repo.env, "document setup", "k8s/secret.yaml")
    if pem is not None:
        assert show(clone, repo.env, "add deploy key", "deploy/id_rsa").rstrip() == scrubbed(pem)
        in_json = json.loads(show(clone, repo.env, "add deploy key", "deploy/key.json"))
        assert in_json["private_key"].rstrip() == scrubbed(pem)

    # The printed way: a mirror clone and the exact filter-repo command of step 3.
    mirror = tmp_path / "mirror.git"
    repo.git("clone", "-q", "--mirror", "--no-local", str(repo.path), str(mirror))
    command = next(line for line in out.splitlines() if line.strip().startswith("git filter-repo"))
    filter_repo(mirror, repo.env, *shlex.split(command)[2:])
    code, doc = audit(capsys, mirror)
    assert (code, doc["findings"]) == (0, [])


def test_show_secrets_report_needs_no_repository(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    token, key_id = make_secret("github.pat", rng), make_secret("aws.access-key-id", rng)
    repo.write("app.env", f"GITHUB_TOKEN={token}\nAWS_ACCESS_KEY_ID={key_id}\n")
    commit(repo, "add config", 1)
    write_report(capsys, repo.path, tmp_path / "report.json", "--show-secrets")
    shutil.rmtree(repo.path)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "purge-plan", "report.json", "--repo", str(repo.path), "-o", "plan.txt"
    )
    assert code == 0, err
    assert sorted(file_literals(tmp_path / "plan.txt")) == sorted([token, key_id])
    assert token not in out + err and key_id not in out + err
    assert "and the report (--show-secrets: it holds them too)" in out


def test_worktree_report_from_stdin(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    token = make_secret("github.pat", rng)
    repo.write("config/app.env", f"GITHUB_TOKEN={token}\n")
    code, report, _ = run(capsys, "scan", str(repo.path), "--format", "json")
    assert code == 1
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(report.encode())))
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "purge-plan", "-", "--repo", str(repo.path))
    assert code == 0, err
    assert file_literals(tmp_path / "keyguard-replacements.txt") == [token]
    assert token not in out + err


def test_staged_report_reads_the_index(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    token = make_secret("github.pat", rng)
    repo.write("app.env", f"GITHUB_TOKEN={token}\n")
    repo.git("add", "app.env")
    code, report, _ = run(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert code == 1
    repo.write("app.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")  # fixed in the file, still staged
    (tmp_path / "report.json").write_text(report, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "purge-plan", "report.json", "--repo", str(repo.path))
    assert code == 0, err
    assert file_literals(tmp_path / "keyguard-replacements.txt") == [token]
    assert token not in out + err


def test_unrecoverable_value_is_named_and_incomplete(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    kept, gone = make_secret("github.pat", rng), make_secret("github.pat", rng)
    repo.write("app.env", f"GITHUB_TOKEN={kept}\n")
    commit(repo, "add config", 1)
    repo.git("checkout", "-q", "-b", "side")
    repo.write("side.env", f"GITHUB_TOKEN={gone}\n")
    lost_commit = commit(repo, "side token", 2)
    repo.git("checkout", "-q", "main")
    report = write_report(capsys, repo.path, tmp_path / "report.json")
    preview = next(f["preview"] for f in report["findings"] if f["path"] == "side.env")
    # The commit is gone for good: branch deleted, reflogs expired, objects pruned.
    repo.git("branch", "-q", "-D", "side")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "purge-plan", "report.json", "--repo", str(repo.path))
    assert code == 3
    assert f"github.pat {preview} at side.env:1 (commit {lost_commit[:12]})" in err
    assert "is not in" in err and "INCOMPLETE" in out
    assert file_literals(tmp_path / "keyguard-replacements.txt") == [kept]
    assert gone not in out + err and kept not in out + err


def test_refuses_to_overwrite_unless_forced(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo: GitRepo,
    rng: random.Random,
) -> None:
    token = make_secret("github.pat", rng)
    repo.write("app.env", f"GITHUB_TOKEN={token}\n")
    commit(repo, "add config", 1)
    write_report(capsys, repo.path, tmp_path / "report.json")
    monkeypatch.chdir(tmp_path)
    existing = tmp_path / "keyguard-replacements.txt"
    existing.write_text("someone's file\n")
    existing.chmod(0o644)
    code, _, err = run(capsys, "purge-plan", "report.json", "--repo", str(repo.path))
    assert code == 2 and "already exists" in err and "--force" in err
    assert existing.read_text() == "someone's file\n"
    code, _, err = run(capsys, "purge-plan", "report.json", "--repo", str(repo.path), "--force")
    assert code == 0, err
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert file_literals(existing) == [token]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"schema": "keyguard.report/1", "scan": {}, "findings": []}', "keyguard.report/1"),
        ('{"version": "2.1.0", "runs": []}', "not a keyguard JSON report"),
        ('{"rule_id": "github.pat"}\n{"rule_id": "github.pat"}\n', "invalid JSON"),
        ('{"schema": "keyguard.report/3", "scan": {}}', "`findings` is missing"),
        (
            '{"schema": "keyguard.report/3", "scan": {}, "findings": [{"rule_id": "github.pat",'
            ' "path": "a", "line": 1, "commit": null, "preview": "ghp_…(40)"}]}',
            "finding #1: `secret_hash`",
        ),
    ],
    ids=["corrupt", "old-schema", "sarif", "jsonl", "no-findings", "no-hash"],
)
def test_bad_report_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.json").write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "purge-plan", "report.json")
    assert code == 2 and message in err
    assert not (tmp_path / "keyguard-replacements.txt").exists()


def test_missing_report_and_bad_replacement(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "purge-plan", "nowhere.json")
    assert code == 2 and "cannot read the report" in err
    code, _, err = run(capsys, "purge-plan", "nowhere.json", "--replacement", "a==>b")
    assert code == 2 and "--replacement" in err


def test_private_key_forms_become_their_body_lines() -> None:
    body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "q1w2e3r4t5y6u7i8o9p0", "AbC="]
    block = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END PRIVATE KEY-----"
    expected = tuple(body[:2])  # the 4-character last line is too short to replace safely
    assert purge.literals_for(block, "private-key") == expected
    assert purge.literals_for(block.replace("\n", "\r\n  "), "private-key") == expected
    assert purge.literals_for(block.replace("\n", "\\n"), "private-key") == expected
    assert purge.literals_for(block.replace("\n", "\\\\n"), "private-key") == expected
    assert purge.literals_for("ghp_abc\\ndef", "secret") == ("ghp_abc\\ndef",)


def test_public_url_drops_credentials() -> None:
    assert purge.public_url("https://x-token:ghp_abc@github.com/o/r.git") == (
        "https://github.com/o/r.git"
    )
    assert purge.public_url("git@github.com:o/r.git") == "git@github.com:o/r.git"
    assert purge.public_url(None) == "URL"


try:
    import git_filter_repo as filter_repo_module
except ImportError:  # installed as a script only, or not at all
    filter_repo_module = None


# Values built from pieces filter-repo gives a meaning to, and any other character but a line
# break (which no value reaching a replace-text line holds: literals_for splits those).
_PIECE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=1
) | st.sampled_from(["==>", "=", ">", "literal:", "regex:", "glob:", "#", "\\", " ", "\t"])


@given(
    values=st.lists(
        st.lists(_PIECE, min_size=1, max_size=6).map("".join), min_size=1, max_size=5, unique=True
    ),
    replacement=st.sampled_from([REMOVED, "", "x", "<gone>", "a=b>c", "=="]),
)
@settings(max_examples=100, deadline=None)
@pytest.mark.skipif(filter_repo_module is None, reason="git_filter_repo is not importable")
def test_values_round_trip_through_filter_repo(values: list[str], replacement: str) -> None:
    """filter-repo's own parser reads back every value and replacement exactly, and the
    header lines as nothing."""
    assert filter_repo_module is not None
    content = purge.format_replacements(
        purge.order(values), replacement, purge.header("a==>b.json", 1, 1)
    )
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "plan.txt"
        target.write_bytes(content)
        parsed = filter_repo_module.FilteringOptions.get_replace_text(str(target))
    assert parsed["regexes"] == []
    assert sorted(parsed["literals"]) == sorted((v.encode(), replacement.encode()) for v in values)
