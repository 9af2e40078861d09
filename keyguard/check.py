"""`keyguard signatures check`: every rule's examples through the whole engine.

A positive example must produce a finding of its rule and contain one of its keywords (otherwise
the prefilter would drop it silently); a negative example must produce no finding of its rule.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from keyguard.engine import CompiledRuleset, scan
from keyguard.examples import TemplateError, expand
from keyguard.model import redact
from keyguard.remediation import Playbook
from keyguard.signatures import Rule


@dataclass(frozen=True, slots=True)
class Problem:
    rule_id: str
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: rule {self.rule_id!r}: {self.message}"


def check_playbooks(rules: Iterable[Rule], catalogue: Mapping[str, Playbook]) -> list[Problem]:
    """A rule without a playbook leaves its finding with nothing to do: that is a hole too."""
    return [
        Problem(r.id, r.source, f"playbook {r.remediation!r} (remediation) does not exist")
        for r in rules
        if r.remediation not in catalogue
    ]


def check_rule(rule: Rule, compiled: CompiledRuleset, rng: random.Random) -> list[Problem]:
    problems: list[Problem] = []

    def problem(message: str) -> None:
        problems.append(Problem(rule.id, rule.source, message))

    for number, template in enumerate(rule.examples, 1):
        try:
            text = expand(template, rule, rng)
        except TemplateError as exc:
            problem(f"example {number}: {exc}")
            continue
        if rule.keywords and not _has_keyword(rule, text):
            problem(f"example {number} has none of the keywords {list(rule.keywords)}")
            continue
        found = scan(text.encode("utf-8"), rule.example_path, compiled).findings
        if not any(f.rule_id == rule.id for f in found):
            others = ", ".join(sorted({f.rule_id for f in found})) or "nothing"
            problem(f"example {number} is not found (found: {others}): {_short(text)}")
    for number, template in enumerate(rule.negative_examples, 1):
        try:
            text = expand(template, rule, rng)
        except TemplateError as exc:
            problem(f"negative example {number}: {exc}")
            continue
        found = scan(text.encode("utf-8"), rule.example_path, compiled).findings
        hits = [f for f in found if f.rule_id == rule.id]
        if hits:
            problem(
                f"negative example {number} is reported ({redact(hits[0].secret)}): {_short(text)}"
            )
    return problems


def check_rules(compiled: CompiledRuleset, seed: int | None = None) -> list[Problem]:
    rng = random.Random(seed)
    problems: list[Problem] = []
    for rule in compiled.rules:
        problems.extend(check_rule(rule, compiled, rng))
    return problems


def _has_keyword(rule: Rule, text: str) -> bool:
    if rule.exact_keywords:
        return any(k in text for k in rule.keywords)
    return any(k.lower() in text.lower() for k in rule.keywords)


def _short(text: str) -> str:
    # Examples are generated at run time, but keep messages short and one-line anyway.
    flat = text.replace("\n", "\\n")
    return flat if len(flat) <= 80 else flat[:77] + "..."
