"""History audits: every blob in a history scope scanned once, findings turned into leak events."""

from keyguard.history.audit import Audit, AuditOptions, HistoryStats, audit

__all__ = ["Audit", "AuditOptions", "HistoryStats", "audit"]
