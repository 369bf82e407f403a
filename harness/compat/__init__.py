"""Compatibility: the oracle, verdicts and cells (dynamic), and static rules (checker)."""
