"""Drivers for CI systems (the GitHub Action)."""
