"""Compatibility: the oracle, verdicts and cells (dynamic), migration chains, and static
rules (checker)."""
