"""`keyguard explain RULE_ID`: what a rule (or a hygiene assessment) finds, and its playbook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from keyguard.controls import controls
from keyguard.hygiene import Assessment
from keyguard.remediation import Playbook, steps_for
from keyguard.report.model import printable
from keyguard.signatures import Rule


@dataclass(frozen=True, slots=True)
class Subject:
    id: str
    title: str
    provider: str
    category: str
    severity: str
    tags: tuple[str, ...]
    description: str
    playbook: str

    @staticmethod
    def of_rule(rule: Rule) -> Subject:
        return Subject(
            rule.id,
            rule.title,
            rule.provider,
            rule.category,
            rule.severity,
            controls(rule),
            rule.description,
            rule.remediation,
        )

    @staticmethod
    def of_assessment(a: Assessment) -> Subject:
        return Subject(
            a.id, a.title, "keyguard", "hygiene", a.severity, a.tags, a.description, a.playbook
        )


def format_explain(subject: Subject, playbooks: Mapping[str, Playbook]) -> str:
    book = playbooks.get(subject.playbook)
    lines = [
        f"{subject.id}: {subject.title}",
        f"  provider: {subject.provider}; category: {subject.category}; severity: {subject.severity}",
        f"  controls: {', '.join(subject.tags) or '-'}",
    ]
    if subject.description:
        lines.append(f"  {subject.description}")
    title = book.title if book else "(no playbook: only the common steps)"
    lines += ["", f"What to do ({title}, playbook {subject.playbook!r}):"]
    for number, step in enumerate(steps_for(subject.playbook, subject.category, playbooks), 1):
        lines.append(f"  {number}. {step.action}: {step.text}")
        if step.command:
            lines.append(f"       $ {step.command}")
        if step.url:
            lines.append(f"       {step.url}")
    # User rules and playbooks (a repository's configuration) write most of this: a line
    # break in a description stays one, every other control character is shown escaped.
    text = "\n".join(lines)
    return "\n".join(printable(line) for line in text.split("\n")) + "\n"
