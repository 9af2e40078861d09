"""`--format html`: escaping, no secret value ever, what comes first, the charts, and the page in a
real headless Chromium (no console error, no request but the file itself, the summary on screen).

Secrets are generated at test time from the rules' `generate` expressions; nothing here is a
realistic credential. The browser test needs Debian's chromium (`apt-get install chromium`) and the
PyPI `playwright` package (its own browser download is never used); it skips without them.
`KEYGUARD_UPDATE_SCREENSHOT=1 pytest tests/test_html_report.py -k browser` rewrites
docs/report.png from the generated repository.
"""

from __future__ import annotations

import html
import os
import random
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.model import Commit, Finding
from keyguard.remediation import Playbook, Step, load_builtin_playbooks
from keyguard.report import FORMATS, RenderOptions, Report
from keyguard.report.html import format_html
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}
GENERATED = sorted(r.id for r in RULES.values() if r.generate is not None)  # hygiene rules: none
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "report.png"
HOSTILE = "<script>alert(1)</script>"
VOID = {"meta", "link", "br", "col", "input", "img", "hr", "wbr", "source", "area", "base"}


def make(
    rule_id: str,
    rng: random.Random,
    *,
    path: str = "app.env",
    line: int = 1,
    age: int | None = None,
    in_head: bool | None = None,
    author: str = "Dana Smith",
    summary: str = "Add settings",
) -> tuple[Finding, str]:
    """A finding of a built-in rule for a freshly generated value, and that value."""
    rule = RULES[rule_id]
    value = generate_secret(rule, rng)
    commit = seen = None
    if age is not None:
        moment = datetime(2026, 6, 1, tzinfo=UTC) - timedelta(days=age)
        seen = moment.isoformat().replace("+00:00", "Z")
        commit = Commit(f"{rng.getrandbits(160):040x}", author, moment.isoformat(), summary)
    found = Finding(
        rule_id=rule.id,
        title=rule.title,
        category=rule.category,
        severity=rule.severity,
        confidence="high",
        path=path,
        line=line,
        column=1,
        end_line=line,
        end_column=1 + len(value),
        secret=value,
        commit=commit,
        first_seen=seen,
        age_days=age,
        in_head=in_head,
        remediation=rule.remediation,
        provider=rule.provider,
    )
    return found, value


def report(findings: list[Finding], **changes: Any) -> Report:
    fields: dict[str, Any] = {
        "kind": "history",
        "targets": ("repo",),
        "findings": tuple(findings),
        "files": 12,
        "bytes": 4096,
        "skipped": {},
        "errors": (),
        "seconds": 0.25,
        "rules": len(RULES),
        "ruleset": "0123456789abcdef",
        "matcher": "test",
        "extra": {"commits": 5, "notes": []},
        "playbooks": load_builtin_playbooks(),
    }
    return Report(**{**fields, **changes})


class Page(HTMLParser):
    """The document as a browser would build it, for checks: tags, attributes, text, balance."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.problems: list[str] = []
        self._open: list[str] = []
        self.feed(source)
        self.close()
        self.problems += [f"<{tag}> never closed" for tag in self._open]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs += [(tag, name, value or "") for name, value in attrs]
        if tag not in VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self._open[-1:] or 'nothing'}")
            return
        self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">.*?</section>', page, re.S)
    assert match, f"no section {name}"
    return match.group(0)


# --- escaping and redaction ------------------------------------------------------------------


def test_everything_from_the_repository_renders_as_text() -> None:
    rng = random.Random(1)
    found, _ = make(
        "github.pat",
        rng,
        path=f"{HOSTILE}/<img src=x onerror=alert(2)>.env",
        age=400,
        in_head=True,
        author='Eve "><svg onload=alert(3)>',
        summary="</code></td><script>alert(4)</script>",
    )
    hostile = Finding(
        **{
            **{k: getattr(found, k) for k in Finding.__dataclass_fields__},
            "title": "<b>bold</b> & <i>",
            "provider": "<marquee>Acme</marquee>",
            "rule_id": "x.<u>rule</u>",
            "remediation": "evil",
        }
    )
    book = Playbook(
        "evil",
        "<h1>Playbook</h1>",
        (Step("revoke", "Run <script>alert(5)</script> now.", "rm -rf <x>", 'https://x/"><a'),),
    )
    page = format_html(
        report(
            [hostile],
            targets=(f"/srv/{HOSTILE}",),
            errors=(f"{HOSTILE}: Permission denied",),
            skipped={"<em>odd</em>": 2},
            extra={"commits": 1, "notes": [f"note {HOSTILE}"]},
            playbooks={"evil": book},
        )
    )
    parsed = Page(page)
    assert parsed.problems == []
    assert parsed.tags["script"] == 1  # the page's own filter script, nothing else
    for tag in ("img", "i", "u", "marquee", "em"):
        assert parsed.tags[tag] == 0, tag
    # The page's own: its heading, the two charts, the step's link.
    assert (parsed.tags["h1"], parsed.tags["svg"], parsed.tags["a"]) == (1, 2, 1)
    assert not [a for a in parsed.attrs if a[1].startswith("on")]
    text = parsed.all_text
    for shown in (
        f"{HOSTILE}/<img src=x onerror=alert(2)>.env:1",
        'Eve "><svg onload=alert(3)>',
        "<b>bold</b> & <i>",
        "<marquee>Acme</marquee>",
        "x.<u>rule</u>",
        f"/srv/{HOSTILE}",
        f"{HOSTILE}: Permission denied",
        "2 <em>odd</em>",
        f"note {HOSTILE}",
        "<h1>Playbook</h1>",
        "Run <script>alert(5)</script> now.",
        "rm -rf <x>",
    ):
        assert shown in text, shown
    summaries = [v for tag, name, v in parsed.attrs if tag == "code" and name == "title"]
    assert summaries == ["</code></td><script>alert(4)</script>"]
    assert [v for _, name, v in parsed.attrs if name == "href"] == ["data:,", 'https://x/"><a']


def test_control_characters_are_shown_escaped() -> None:
    found, _ = make("github.pat", random.Random(2), path="a\x1b[31mred\x00.env")
    text = Page(format_html(report([found], kind="worktree"))).all_text
    assert "a\\x1b[31mred\\x00.env:1" in text
    assert "\x1b" not in text and "\x00" not in text


@settings(max_examples=150, deadline=None)
@given(rule_id=st.sampled_from(GENERATED), seed=st.integers(0, 2**32), age=st.integers(0, 3000))
def test_no_secret_value_ever_even_with_show_secrets(rule_id: str, seed: int, age: int) -> None:
    found, value = make(rule_id, random.Random(seed), age=age, in_head=age % 2 == 0)
    page = FORMATS["html"].render(report([found]), RenderOptions(show_secrets=True))
    assert value not in page
    shown = min(4, len(value) // 4)  # what the preview shows, as keyguard.model.redact does
    assert value[shown:] not in page
    assert html.escape(found.preview) in page


def test_the_page_can_request_nothing() -> None:
    rng = random.Random(3)
    findings = [
        make(r, rng, age=a, in_head=True)[0]
        for r, a in (("github.pat", 500), ("slack.bot-token", 9))
    ]
    page = format_html(report(findings))
    parsed = Page(page)
    assert parsed.problems == []
    policy = next(
        v for t, n, v in parsed.attrs if t == "meta" and n == "content" and "default-src" in v
    )
    assert "default-src 'none'" in policy and "connect-src" not in policy
    urls = [
        (tag, name, v)
        for tag, name, v in parsed.attrs
        if name in {"src", "href", "action", "srcset", "xlink:href"}
    ]
    assert [u for u in urls if u[0] != "a"] == [("link", "href", "data:,")]
    assert all(v.startswith("https://") for tag, _, v in urls if tag == "a")
    assert "@import" not in page and "url(" not in page


# --- what comes first ------------------------------------------------------------------------


def test_root_keys_then_overdue_keys_come_first() -> None:
    rng = random.Random(4)
    findings = [
        make("stripe.test-key", rng, path="low.env", age=10, in_head=True)[0],
        make("slack.bot-token", rng, path="young.env", age=364, in_head=True)[0],
        make("github.pat", rng, path="old.env", age=400, in_head=False)[0],
        make("aws.root-key-csv", rng, path="rootkey.csv", line=2, age=30, in_head=True)[0],
        make("aws.root-key-csv-id", rng, path="old/rootkey.csv", age=900, in_head=True)[0],
        make("gcp.api-key", rng, path="older.env", age=2000, in_head=True)[0],
    ]
    page = format_html(report(findings))
    order = [
        m.group(1)
        for m in re.finditer(
            r'<div class="card">.*?<code>[^<]*</code> [^<]*<code>([^<]+)</code>', page
        )
    ]
    assert order == ["aws.root-key-csv-id", "aws.root-key-csv", "gcp.api-key", "github.pat"]
    ids = re.findall(r'<section id="([a-z]+)">', page)
    assert ids == ["summary", "priority", "exposure", "findings", "playbooks"]
    assert "young.env" not in section(page, "priority")
    # The rotation period is a parameter (a configurable period will pass it in).
    stricter = format_html(report(findings), rotation_days=300)
    order = re.findall(r'<div class="card">.*?</div>', section(stricter, "priority"))
    assert len(order) == 5 and "young.env" in order[-1]
    assert "Act first: root keys and keys older than 300 days" in stricter
    summary = Page(section(page, "summary")).all_text
    assert "6 exposed secrets" in summary and "4 to act on first" in summary
    assert "2000 daysOldest exposure, since 2020-12-09" in summary


def test_findings_are_grouped_by_severity_then_provider() -> None:
    rng = random.Random(5)
    findings = [
        make("stripe.secret-key", rng, path="b.env", age=5, in_head=True)[0],
        make("aws.access-key-id", rng, path="a.env", age=5, in_head=True)[0],
        make("github.pat", rng, path="c.env", age=5, in_head=True)[0],
    ]
    text = Page(section(format_html(report(findings)), "findings")).all_text
    positions = [text.index(s) for s in ("critical", "AWS", "Stripe", "high", "GitHub")]
    assert positions == sorted(positions)


def test_empty_report_renders() -> None:
    page = format_html(report([], kind="worktree", extra=None, playbooks={}))
    parsed = Page(page)
    assert parsed.problems == []
    text = parsed.all_text
    assert "No secrets found." in text and "None." in text
    assert "Still in HEADn/a" in text  # a worktree scan cannot tell
    assert parsed.tags["svg"] == 0 and "keyguard history" in text
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")


def test_incomplete_scan_says_so_and_lists_errors_and_skips() -> None:
    found, _ = make("github.pat", random.Random(6))
    page = format_html(
        report(
            [found],
            kind="worktree",
            errors=("a.env: Permission denied", "b.env: Permission denied"),
            skipped={"binary": 3, "too large": 1},
        )
    )
    text = Page(page).all_text
    assert "Incomplete scan: 2 error(s); 1 secret(s) found so far." in text
    assert "INCOMPLETE: 2 error(s)" in text and "b.env: Permission denied" in text
    assert "3 binary, 1 too large" in text
    assert "Commit" not in section(page, "findings")  # a worktree scan has no history columns


def test_timeline_and_age_histogram() -> None:
    rng = random.Random(7)
    ages = [10, 100, 400, 800, 2000]
    findings = [
        make("github.pat", rng, path=f"f{n}.env", age=age, in_head=n != 2)[0]
        for n, age in enumerate(ages)
    ]
    page = format_html(report(findings))
    timeline = re.search(r'<svg class="chart" id="timeline".*?</svg>', page, re.S)
    histogram = re.search(r'<svg class="chart" id="ages".*?</svg>', page, re.S)
    assert timeline and histogram
    assert timeline.group(0).count("<circle") == len(ages) + 1  # one per entry, and the legend's
    assert timeline.group(0).count(">removed</text>") == 1  # f2.env's secret left HEAD
    bars = re.findall(
        r'fill="(#[0-9a-f]+)"/><text[^>]*font-weight="700">(\d+)<', histogram.group(0)
    )
    # up to 30 d, 30–90 d, 90–180 d, 180 d–1 y, 1–2 y, 2–5 y, over 5 y; red past 365 days
    blue, red = "#1c7ed6", "#b00020"
    assert bars == [(blue, "1"), (blue, "0"), (blue, "1"), (blue, "0")] + [(red, "1")] * 3
    moved = format_html(report(findings), rotation_days=90)
    assert re.findall(r'fill="(#[0-9a-f]+)"/><text[^>]*font-weight="700">', moved) == (
        [blue] * 2 + [red] * 5
    )
    assert "red: older than the rotation period (90 days)" in moved


def test_secrets_with_the_same_playbook_share_it() -> None:
    rng = random.Random(8)
    findings = [make("github.pat", rng, path=f"{n}.env", age=3, in_head=True)[0] for n in range(3)]
    findings.append(make("slack.bot-token", rng, age=3, in_head=True)[0])
    playbooks = section(format_html(report(findings)), "playbooks")
    assert playbooks.count('<div class="playbook">') == 2
    github = load_builtin_playbooks()["github-token"]
    assert playbooks.count(github.steps[0].text.replace("'", "&#x27;")) == 1
    assert "keyguard purge-plan REPORT.json --repo ." in playbooks  # the category's own steps


def test_cli_html_with_show_secrets_writes_previews_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = generate_secret(RULES["github.pat"], random.Random(9))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.env").write_text(f"GITHUB_TOKEN={value}\n", encoding="utf-8")
    out = tmp_path / "report.html"
    argv = ["scan", "--no-config", "--format", "html", "--show-secrets", "-o", str(out)]
    assert main([*argv, str(tmp_path / "src")]) == 1
    page = out.read_text(encoding="utf-8")
    assert value not in page and value[:4] + "…(40)" in page
    assert "not even with --show-secrets" in page
    assert main(["scan", "--help"]) == 0
    assert "github, html" in capsys.readouterr().out


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # CI sets KEYGUARD_REQUIRE_BROWSER: there a missing browser fails instead of skipping.
    required = bool(os.environ.get("KEYGUARD_REQUIRE_BROWSER"))
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        if required:
            raise
        pytest.skip("the PyPI package playwright is not installed")
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def leaky_repository(repo: GitRepo) -> list[str]:
    """A history that leaks generated secrets over three years, one of them since removed, and
    a file whose path is markup. The dates count back from today, so the ages are fixed."""
    rng = random.Random(20261201)
    now = datetime.now(UTC).replace(microsecond=0)
    values: list[str] = []

    def new(rule_id: str) -> str:
        values.append(generate_secret(RULES[rule_id], rng))
        return values[-1]

    def commit(message: str, days_ago: int, author: str) -> None:
        repo.env["GIT_AUTHOR_NAME"] = author
        repo.commit(message, date=(now - timedelta(days=days_ago)).isoformat())

    repo.write("README.md", "# payments service\n")
    commit("Initial commit", 1300, "Alex Kim")
    repo.write("config/settings.py", f'GITHUB_TOKEN = "{new("github.pat")}"\n')
    commit("Add CI settings", 1100, "Alex Kim")
    key_id, secret = new("aws.root-key-csv-id"), new("aws.root-key-csv")
    repo.write("ops/rootkey.csv", f"AWSAccessKeyId={key_id}\nAWSSecretKey={secret}\n")
    commit("Back up the account credentials", 800, "Sam Lee")
    repo.write("config/settings.py", 'import os\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n')
    repo.write(".env", f"SLACK_BOT_TOKEN={new('slack.bot-token')}\n")
    commit("Read the token from the environment", 400, "Dana Smith")
    repo.write(f"{HOSTILE[:-8]}/script>", f"STRIPE_KEY={new('stripe.test-key')}\n")
    commit(f"Fixtures {HOSTILE}", 120, "Eve Example")
    repo.write(
        "deploy/prod.yml",
        f"env:\n  STRIPE_KEY: {new('stripe.secret-key')}\n  HOOK: {new('slack.webhook-url')}\n",
    )
    commit("Deploy to production", 20, "Dana Smith")
    return values


def is_rich_png(data: bytes, width: int, height: int) -> bool:
    """A PNG of that size whose pixels are far from one flat colour."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, height)
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return len(data) > 40_000 and len(set(pixels)) > 100


def test_browser_renders_the_report_of_a_real_history(
    browser: Any,
    git_repo: Callable[..., GitRepo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = git_repo("payments")
    values = leaky_repository(repo)
    monkeypatch.chdir(tmp_path)
    argv = ["history", "payments", "--format", "html", "-o", "report.html"]
    assert main([*argv, "--no-config", "--no-cache", "--jobs", "1"]) == 1
    source = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not [v for v in values if v in source]

    requests: list[str] = []
    problems: list[str] = []
    browser.on("request", lambda request: requests.append(request.url))
    page = browser.new_page()
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    url = (tmp_path / "report.html").as_uri()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # let anything late (a favicon, a font) try its request

    summary = page.locator("#summary")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None and box["y"] < 900
    text = " ".join(summary.inner_text().split())
    assert "7 exposed secrets: rotate or revoke each. 4 to act on first." in text
    for tile in ("7 DISTINCT SECRETS", "6 STILL IN HEAD", "1 HISTORY ONLY", "2 ROOT KEYS"):
        assert tile in text, text
    assert "4 OLDER THAN 365 DAYS" in text, text
    assert "1100 days OLDEST EXPOSURE" in text, text
    assert "Status complete" in text and "Scope history: payments" in text
    first = page.locator("#priority .card").first.inner_text()
    assert "ROOT KEY" in first and "800 DAYS OLD" in first
    assert page.get_by_text(f"{HOSTILE}:1", exact=True).is_visible()
    assert page.locator("#timeline").is_visible() and page.locator("#ages").is_visible()

    png = page.screenshot()
    assert is_rich_png(png, 1280, 900)
    if os.environ.get("KEYGUARD_UPDATE_SCREENSHOT") == "1":
        charts = page.locator("#exposure").bounding_box()
        assert charts is not None
        clip = {"x": 0, "y": 0, "width": 1280, "height": charts["y"] + charts["height"] + 24}
        SCREENSHOT.write_bytes(page.screenshot(full_page=True, clip=clip))

    # The filter (the one script) works; without it the page is the same minus the box.
    page.fill("#filter", "rootkey")
    shown = page.locator("tr.finding:visible")
    assert shown.count() >= 2 and all("rootkey" in t for t in shown.all_inner_texts())
    page.fill("#filter", "")
    page.emulate_media(media="print")
    assert not page.locator("#filter-row").is_visible()
    assert problems == []
    assert requests == [url]
    page.close()
