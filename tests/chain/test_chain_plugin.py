"""The pytest plugin's ``chain_test``: "any path through our last N releases is lossless"."""

from __future__ import annotations

import pytest

from vmcompat.catalog import history
from vmcompat.compat.chain import ChainVerdict
from vmcompat.dsl import device, uint8, uint16
from vmcompat.pytest_plugin import chain_test


def test_a_lossy_history_fails_with_the_shrunk_chain() -> None:
    with pytest.raises(AssertionError) as e:
        chain_test("catalog:wdt-gap", max_examples=100, seed=1)
    text = str(e.value)
    assert text.startswith("wdt-gap: loss 1 → 2 → 3 (seed 1):")
    assert "prescaler lost at hop 1: 2 does not hold prescaler" in text


def test_the_last_releases_only() -> None:
    """v2 and v3 of wdt-gap alone have no gap: nothing is lost (downgrades are refused)."""
    r = chain_test(history("wdt-gap"), last=2, max_examples=20, seed=0)
    assert r.verdict is ChainVerdict.REFUSED and set(r.path) <= {"2", "3"}


def test_descriptions_in_release_order() -> None:
    v1 = device("mine", 1, uint8("a"))
    v2 = device("mine", 2, uint8("a"), uint16("b", version=2), minimum=1)
    assert not chain_test([v1, v2], wires=("legacy", "json"), max_examples=15).verdict.bad
