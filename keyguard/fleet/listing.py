"""An organisation's repositories from its host's REST API: GitHub's
`GET /orgs/{org}/repos` (pages linked by the `Link` header) and GitLab's
`GET /api/v4/groups/{id}/projects` (pages numbered by `x-next-page`).

Tokens come from the environment (GITHUB_TOKEN, GITLAB_TOKEN) and are sent only to the API's
own origin: a `Link` header naming another host is refused rather than followed, so a hostile
or misconfigured server cannot collect the token. When the API says its rate limit is spent
(403 or 429 with `x-ratelimit-remaining: 0`, or a `Retry-After`), the listing waits as the
documentation asks, up to MAX_WAIT seconds. urllib only: no dependency for a few requests.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from keyguard import __version__
from keyguard.errors import UsageError

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com"
MAX_WAIT = 900.0  # seconds one rate-limit wait may take before the listing gives up
MAX_PAGES = 10_000
TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes


Fetch = Callable[[str, Mapping[str, str]], Response]


@dataclass(frozen=True, slots=True)
class Client:
    """How the listing reaches the API; tests and callers may replace the clock and sleep."""

    fetch: Fetch = field(default_factory=lambda: urlopen)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time


def urlopen(url: str, headers: Mapping[str, str]) -> Response:
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return Response(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, _lower(error.headers.items()), error.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"cannot reach {_origin(url)}: {reason}") from None


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


def github_repos(
    org: str, api_url: str | None = None, token: str | None = None, client: Client | None = None
) -> list[str]:
    """Clone URLs of every repository of a GitHub organisation (type=all)."""
    base = (api_url or GITHUB_API).rstrip("/")
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": f"keyguard/{__version__}",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url: str | None = f"{base}/orgs/{quote(org, safe='')}/repos?" + urlencode(
        {"per_page": 100, "type": "all"}
    )
    out: list[str] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return out
        answer = _get(url, headers, client or Client(), "GitHub")
        out += [str(r["clone_url"]) for r in _items(answer, "GitHub") if r.get("clone_url")]
        url = _next_link(answer.headers.get("link", ""), base)
    raise UsageError(f"GitHub API: more than {MAX_PAGES} pages of repositories")


def gitlab_projects(
    group: str, api_url: str | None = None, token: str | None = None, client: Client | None = None
) -> list[str]:
    """Clone URLs of every project of a GitLab group and its subgroups."""
    base = (api_url or GITLAB_API).rstrip("/")
    headers = {"User-Agent": f"keyguard/{__version__}"}
    if token:
        headers["PRIVATE-TOKEN"] = token
    # A group's id, or its full path URL-encoded (`parent%2Fchild`), as the API documents.
    first = f"{base}/api/v4/groups/{quote(group, safe='')}/projects"
    page: str | None = "1"
    out: list[str] = []
    for _ in range(MAX_PAGES):
        if not page:
            return out
        query = urlencode({"include_subgroups": "true", "per_page": 100, "page": page})
        answer = _get(f"{first}?{query}", headers, client or Client(), "GitLab")
        items = _items(answer, "GitLab")
        out += [str(p["http_url_to_repo"]) for p in items if p.get("http_url_to_repo")]
        page = answer.headers.get("x-next-page", "").strip()
        if page and not page.isdigit():
            raise UsageError(f"GitLab API: x-next-page {page!r} is not a page number")
    raise UsageError(f"GitLab API: more than {MAX_PAGES} pages of projects")


def _get(url: str, headers: Mapping[str, str], client: Client, api: str) -> Response:
    """A 200 answer, waiting out rate limits as the API asks."""
    for _ in range(10):
        answer = client.fetch(url, headers)
        if answer.status == 200:
            return answer
        wait = _rate_limit_wait(answer, client.now())
        if wait is None:
            raise UsageError(f"{api} API: {answer.status} for {url}: {_message(answer)}")
        if wait > MAX_WAIT:
            raise UsageError(
                f"{api} API: rate limit reached; it resets in {wait:.0f}s (over {MAX_WAIT:.0f}s)"
            )
        client.sleep(wait)
    raise UsageError(f"{api} API: still rate limited after 10 waits")


def _rate_limit_wait(answer: Response, now: float) -> float | None:
    """Seconds to wait before asking again, or None if the answer is no rate limit."""
    if answer.status not in (403, 429):
        return None
    headers = answer.headers
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if headers.get("x-ratelimit-remaining", "").strip() == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            return max(float(reset) - now, 0.0) + 1.0  # the reset second itself may still count
        return 60.0  # GitHub: "wait at least one minute" when nothing says how long
    return None


def _items(answer: Response, api: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(answer.body)
    except ValueError:
        raise UsageError(f"{api} API: the answer is not JSON") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UsageError(f"{api} API: the answer is not a list of repositories")
    return data


def _message(answer: Response) -> str:
    try:
        data = json.loads(answer.body)
    except ValueError:
        return answer.body[:200].decode("utf-8", "replace")
    message = data.get("message") if isinstance(data, dict) else None
    return str(message)[:200] if message else "no message"


def _next_link(header: str, base: str) -> str | None:
    """The `rel="next"` URL of a Link header (RFC 8288), if it stays on the API's origin."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        rels = [p.strip() for p in params.split(";")]
        if 'rel="next"' in rels or "rel=next" in rels:
            url = target[1:-1]
            if _origin(url) != _origin(base):
                raise UsageError(
                    f"GitHub API: the next page is on another host ({_origin(url)}): not followed"
                )
            return url
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
