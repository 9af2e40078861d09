"""What `keyguard scan` covers inside a git work tree, through the real CLI: .gitignore is
honoured but never in silence (the count of files it left out, credential-like names among them,
`--all-files` to scan them), and the project's configuration is found from the repository root
when a file deep inside it is scanned, as the pre-commit framework does."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin

RULES = {r.id: r for r in load_builtin()}
GITHUB_PAT = RULES["github.pat"]
# Disabling github.pat alone lets the generic rules report the token instead (as they should).
DISABLE = "disable = {}\n".format(
    json.dumps(["github.pat", *sorted(i for i in RULES if i.startswith("generic."))])
)


def token(seed: object) -> str:
    return generate_secret(GITHUB_PAT, random.Random(seed))


def keyguard(cwd: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        ["keyguard", "scan", "--format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


@pytest.fixture
def work_tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".env\nbuild/\n*.log\n", encoding="utf-8")
    (root / ".env").write_text(f"GITHUB_TOKEN={token('env')}\n", encoding="utf-8")
    (root / "build" / "certs").mkdir(parents=True)
    (root / "build" / "certs" / "server.pem").write_text("not a key\n", encoding="utf-8")
    (root / "build" / "app.o").write_text("object\n", encoding="utf-8")
    (root / "debug.log").write_text("nothing\n", encoding="utf-8")
    (root / "app.py").write_text("print('hello')\n", encoding="utf-8")
    return root


def test_ignored_files_are_counted_and_credential_names_named(work_tree: Path) -> None:
    code, doc, err = keyguard(work_tree, ".")
    assert code == 0, err
    assert doc["findings"] == []
    notes = doc["scan"]["notes"]
    assert "4 files ignored by .gitignore not scanned (--all-files scans them)" in notes
    (named,) = [n for n in notes if "named like credential files" in n]
    assert named.endswith(": .env, build/certs/server.pem")
    assert all(f"keyguard: note: {n}" in err for n in notes)


def test_all_files_scans_what_gitignore_hides(work_tree: Path) -> None:
    code, doc, err = keyguard(work_tree, ".", "--all-files")
    assert code == 1, err
    assert [(f["rule_id"], f["path"]) for f in doc["findings"]] == [("github.pat", ".env")]
    assert "notes" not in doc["scan"] or not any("ignored" in n for n in doc["scan"]["notes"])


def test_outside_a_work_tree_nothing_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*\n", encoding="utf-8")
    (tmp_path / "a.env").write_text(f"GITHUB_TOKEN={token('plain')}\n", encoding="utf-8")
    code, doc, err = keyguard(tmp_path, ".")
    assert code == 1, err
    assert "notes" not in doc["scan"]


@pytest.mark.parametrize("config_name", [".keyguard.toml", "pyproject.toml"])
def test_a_file_deep_in_the_tree_uses_the_projects_config(
    work_tree: Path, config_name: str
) -> None:
    deep = work_tree / "services" / "api"
    deep.mkdir(parents=True)
    (deep / "settings.py").write_text(f'TOKEN = "{token("deep")}"\n', encoding="utf-8")
    body = DISABLE
    if config_name == "pyproject.toml":
        body = "[tool.keyguard]\n" + body
    (work_tree / config_name).write_text(body, encoding="utf-8")
    # From the root, as the pre-commit framework calls it, and from inside the folder.
    for cwd, target in ((work_tree, "services/api/settings.py"), (deep, "settings.py")):
        code, doc, err = keyguard(cwd, target)
        assert code == 0, (cwd, err, doc.get("findings"))
    # Without the config the token is found: the config was what kept it out.
    code, doc, _ = keyguard(work_tree, "services/api/settings.py", "--no-config")
    assert code == 1 and doc["findings"]


def test_the_nearest_config_wins_and_none_is_taken_from_above_the_work_tree(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "home"
    outer.mkdir()
    # A config above the repository (a home directory's) is not the project's.
    (outer / ".keyguard.toml").write_text('disable = ["github.pat"]\n', encoding="utf-8")
    root = outer / "repo"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pkg").mkdir()
    (root / "pkg" / "a.py").write_text(f'TOKEN = "{token("near")}"\n', encoding="utf-8")
    code, doc, err = keyguard(root, "pkg/a.py")
    assert code == 1, err
    assert {f["rule_id"] for f in doc["findings"]} == {"github.pat"}
    # A config in the package folder is nearer than the root's.
    (root / ".keyguard.toml").write_text("max_file_size = '5MB'\n", encoding="utf-8")
    (root / "pkg" / ".keyguard.toml").write_text(DISABLE, encoding="utf-8")
    code, doc, err = keyguard(root, "pkg/a.py")
    assert code == 0, (err, doc["findings"])


def test_a_gitleaks_allow_comment_suppresses_its_line_as_keyguard_allow_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(
        f'A = "{token("a")}"  # gitleaks:allow\n'
        f'B = "{token("b")}"  # keyguard:allow\n'
        f'C = "{token("c")}"\n',
        encoding="utf-8",
    )
    code, doc, err = keyguard(tmp_path, ".", "--no-config")
    assert code == 1, err
    assert [f["line"] for f in doc["findings"]] == [3]


def test_a_password_in_the_work_trees_remote_url_is_found(tmp_path: Path) -> None:
    root = tmp_path / "clone"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    password = "".join(
        random.Random(5).choices("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQR23456789", k=24)
    )
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "remote",
            "add",
            "origin",
            f"https://deploy:{password}@git.example.org/a.git",
        ],
        check=True,
    )
    (root / "app.py").write_text("print('hi')\n", encoding="utf-8")
    for extra in ((), ("--all-files",)):
        code, doc, err = keyguard(root, ".", "--no-config", *extra)
        assert code == 1, err
        assert [(f["rule_id"], f["path"]) for f in doc["findings"]] == [
            ("git.config-url-credentials", ".git/config")
        ]
        assert password not in json.dumps(doc)
