"""Importers: other scanners' configurations (gitleaks) translated into keyguard's own.

Each importer is a pure translation from the other tool's parsed data to keyguard's
configuration table (the `.keyguard.toml` schema), plus notes naming everything it could not
translate exactly: nothing is dropped silently.
"""
