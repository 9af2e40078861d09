"""The controls a finding concerns, as tags (JSON `tags`, SARIF `properties.tags`), so an audit
can be read against NIST SP 800-53 and SP 800-57.

- IA-5 authenticator management: a password, token or key that authenticates someone;
- SC-8 transmission confidentiality and integrity: TLS off, old protocols, unverified peers;
- SC-12 cryptographic key establishment and management: private and root keys, cryptoperiods,
  one key one purpose;
- SC-13 cryptographic protection: weak or deprecated algorithms and modes;
- SC-28 protection of information at rest: secrets stored in a repository;
- `SP800-57:<action>`: the key-management action SP 800-57 prescribes for the finding.
"""

from __future__ import annotations

from keyguard.signatures import Rule

BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "secret": ("IA-5", "SC-28", "SP800-57:revoke-compromised"),
    "private-key": ("IA-5", "SC-12", "SC-28", "SP800-57:revoke-compromised"),
    "root-key": ("IA-5", "SC-12", "SC-28", "SP800-57:revoke-compromised"),
    "hygiene": (),
}


def controls(rule: Rule) -> tuple[str, ...]:
    """The category's controls, then the rule's own, each once."""
    return tuple(dict.fromkeys((*BY_CATEGORY.get(rule.category, ()), *rule.tags)))
