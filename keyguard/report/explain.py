"""`keyguard explain RULE_ID`: a rule and its whole playbook, as text."""

from __future__ import annotations

from collections.abc import Mapping

from keyguard.controls import controls
from keyguard.remediation import Playbook, steps_for
from keyguard.signatures import Rule


def format_explain(rule: Rule, playbooks: Mapping[str, Playbook]) -> str:
    book = playbooks.get(rule.remediation)
    lines = [
        f"{rule.id}: {rule.title}",
        f"  provider: {rule.provider}; category: {rule.category}; severity: {rule.severity}",
        f"  controls: {', '.join(controls(rule)) or '-'}",
    ]
    if rule.description:
        lines.append(f"  {rule.description}")
    title = book.title if book else "(no playbook: only the common steps)"
    lines += ["", f"What to do ({title}, playbook {rule.remediation!r}):"]
    for number, step in enumerate(steps_for(rule.remediation, rule.category, playbooks), 1):
        lines.append(f"  {number}. {step.action}: {step.text}")
        if step.command:
            lines.append(f"       $ {step.command}")
        if step.url:
            lines.append(f"       {step.url}")
    return "\n".join(lines) + "\n"
