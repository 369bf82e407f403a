"""vmcompat's pytest plugin (entry point ``pytest11``): markers, options, fixtures."""

from __future__ import annotations

from typing import Any

MARKERS = {
    "qemu": "needs a real qemu-system-x86_64 (skipped with a reason when absent)",
    "slow": "slow test (nightly)",
    "chromium": "needs headless chromium (skipped with a reason when absent)",
    "redis": "needs redis-server (skipped with a reason when absent)",
}


def pytest_configure(config: Any) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
