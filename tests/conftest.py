"""Shared test helpers (fixtures live in the plugin and in per-folder conftests)."""
