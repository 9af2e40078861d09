"""`--github-org` and `--gitlab-group`: the repositories of an organisation from its REST API,
against a local http.server on 127.0.0.1 serving pages shaped as the APIs document them
(GitHub: `Link` pagination and rate-limit headers; GitLab: `x-next-page`)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from keyguard.cli import main
from keyguard.errors import UsageError
from keyguard.fleet import listing

Answer = tuple[int, dict[str, str], Any]
Route = Callable[[str, dict[str, str]], Answer]


class FakeApi:
    """A local API server: `route` answers each request; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.route: Route = lambda path, headers: (404, {}, {"message": "Not Found"})
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                api.requests.append((self.path, headers))
                status, extra, body = api.route(self.path, headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def github_repo(org: str, name: str, clone_url: str | None = None) -> dict[str, Any]:
    """A repository object as GET /orgs/{org}/repos documents it (the fields keyguard reads,
    and a few around them)."""
    return {
        "id": abs(hash(name)) % 10**8,
        "name": name,
        "full_name": f"{org}/{name}",
        "private": False,
        "fork": False,
        "archived": False,
        "size": 108,
        "default_branch": "main",
        "clone_url": clone_url or f"https://github.com/{org}/{name}.git",
        "ssh_url": f"git@github.com:{org}/{name}.git",
    }


def gitlab_project(group: str, name: str) -> dict[str, Any]:
    return {
        "id": abs(hash(name)) % 10**8,
        "name": name,
        "path_with_namespace": f"{group}/{name}",
        "http_url_to_repo": f"https://gitlab.com/{group}/{name}.git",
        "ssh_url_to_repo": f"git@gitlab.com:{group}/{name}.git",
        "archived": False,
    }


def query(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)


def paged_github(api: FakeApi, pages: list[list[dict[str, Any]]]) -> None:
    """GitHub's pagination: the first URL, then the `Link` header's rel="next" URLs (GitHub
    links /organizations/{id}/repos, not the URL that was asked)."""

    def route(path: str, headers: dict[str, str]) -> Answer:
        page = int(query(path).get("page", ["1"])[0])
        link = []
        if page < len(pages):
            link.append(
                f'<{api.url}/organizations/42/repos?per_page=100&type=all&page={page + 1}>; rel="next"'
            )
            link.append(
                f'<{api.url}/organizations/42/repos?per_page=100&type=all&page={len(pages)}>; rel="last"'
            )
        return 200, {"Link": ", ".join(link)} if link else {}, pages[page - 1]

    api.route = route


def test_github_pages_follow_the_link_header_with_the_token(api: FakeApi) -> None:
    token = secrets.token_hex(8)
    paged_github(
        api, [[github_repo("acme", f"r{n}") for n in range(p * 3, p * 3 + 3)] for p in range(3)]
    )
    urls = listing.github_repos("acme", api.url, token)
    assert urls == [f"https://github.com/acme/r{n}.git" for n in range(9)]
    first, *rest = api.requests
    assert urlsplit(first[0]).path == "/orgs/acme/repos"
    assert query(first[0]) == {"per_page": ["100"], "type": ["all"]}
    assert [query(p)["page"] for p, _ in rest] == [["2"], ["3"]]
    assert all(h["authorization"] == f"Bearer {token}" for _, h in api.requests)
    assert all(h["accept"] == "application/vnd.github+json" for _, h in api.requests)


def test_github_rate_limit_waits_until_the_reset(api: FakeApi) -> None:
    asked = []

    def route(path: str, headers: dict[str, str]) -> Answer:
        asked.append(path)
        if len(asked) == 1:
            limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}
            return 403, limited, {"message": "API rate limit exceeded"}
        if len(asked) == 2:
            return 429, {"Retry-After": "7"}, {"message": "secondary rate limit"}
        return 200, {}, [github_repo("acme", "only")]

    api.route = route
    slept: list[float] = []
    client = listing.Client(sleep=slept.append, now=lambda: 1000.0)
    assert listing.github_repos("acme", api.url, None, client) == [
        "https://github.com/acme/only.git"
    ]
    assert slept == [31.0, 7.0]  # the reset second itself, then Retry-After as given
    assert "authorization" not in api.requests[0][1]  # no token: none sent


def test_a_rate_limit_too_long_to_wait_is_an_error(api: FakeApi) -> None:
    api.route = lambda path, headers: (
        403,
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(1000 + 7200)},
        {"message": "API rate limit exceeded"},
    )
    client = listing.Client(sleep=lambda s: pytest.fail("waited"), now=lambda: 1000.0)
    with pytest.raises(UsageError, match="rate limit"):
        listing.github_repos("acme", api.url, None, client)


def test_a_next_page_on_another_host_is_not_followed(api: FakeApi) -> None:
    api.route = lambda path, headers: (
        200,
        {"Link": '<http://collector.invalid/orgs/acme/repos?page=2>; rel="next"'},
        [github_repo("acme", "a")],
    )
    with pytest.raises(UsageError, match="another host"):
        listing.github_repos("acme", api.url, secrets.token_hex(8))
    assert len(api.requests) == 1


def test_an_api_error_names_the_status_and_message(api: FakeApi) -> None:
    with pytest.raises(UsageError, match=r"404.*Not Found"):
        listing.github_repos("nobody", api.url, None)


def test_gitlab_pages_follow_x_next_page_with_subgroups(api: FakeApi) -> None:
    token = secrets.token_hex(8)
    pages = [
        [gitlab_project("acme/platform", f"p{n}") for n in range(p * 2, p * 2 + 2)]
        for p in range(3)
    ]

    def route(path: str, headers: dict[str, str]) -> Answer:
        page = int(query(path)["page"][0])
        following = str(page + 1) if page < len(pages) else ""
        return 200, {"x-next-page": following, "x-page": str(page)}, pages[page - 1]

    api.route = route
    urls = listing.gitlab_projects("acme/platform", api.url, token)
    assert urls == [f"https://gitlab.com/acme/platform/p{n}.git" for n in range(6)]
    paths = [p for p, _ in api.requests]
    # The group's full path, URL-encoded, as the API documents for a path instead of an id.
    assert all(urlsplit(p).path == "/api/v4/groups/acme%2Fplatform/projects" for p in paths)
    assert all(query(p)["include_subgroups"] == ["true"] for p in paths)
    assert all(query(p)["per_page"] == ["100"] for p in paths)
    assert all(h["private-token"] == token for _, h in api.requests)


def test_fleet_audits_an_organisation_listed_by_the_api(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: the API lists two repositories (file:// clone URLs here), both audited."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "C",
        "GIT_COMMITTER_EMAIL": "c@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
    }
    bares = []
    for name in ("alpha", "beta"):
        work = tmp_path / name
        work.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, env=env, check=True)
        (work / "README").write_text(name, encoding="utf-8")
        subprocess.run(["git", "add", "-A"], cwd=work, env=env, check=True)
        subprocess.run(["git", "commit", "-qm", "init"], cwd=work, env=env, check=True)
        bare = tmp_path / f"{name}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], env=env, check=True)
        bares.append(bare)
    paged_github(
        api,
        [
            [github_repo("acme", "alpha", bares[0].as_uri())],
            [github_repo("acme", "beta", bares[1].as_uri())],
        ],
    )
    token = secrets.token_hex(8)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    out = tmp_path / "fleet.json"
    code = main(
        [
            "fleet",
            "--github-org",
            "acme",
            "--api-url",
            api.url,
            "--scheduler",
            "sync",
            "--workdir",
            str(tmp_path / "mirrors"),
            "--format",
            "json",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r["repository"] for r in report["repositories"]] == [b.as_uri() for b in bares]
    assert all(r["status"] == "audited" for r in report["repositories"])
    assert all(h["authorization"] == f"Bearer {token}" for _, h in api.requests)
    assert token not in out.read_text(encoding="utf-8")
