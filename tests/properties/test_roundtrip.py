"""Issue 2 acceptance: decode(encode(s)) == s for generated states; encoding is deterministic;
the walk and the compiled plan agree (runs packed by one struct vs one scalar at a time)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat.catalog import load
from vmcompat.compat.oracle import normalize
from vmcompat.formats.legacy import LegacyReader, LegacyWriter, decode, encode
from vmcompat.matrix.engine import prior_for
from vmcompat.model import Description
from vmcompat.state import from_json
from vmcompat.strategies import descriptions, states
from vmcompat.walk import Visitor, Walk

CATALOG = sorted((name, v) for name, h in load().items() for v in h.version_ids)
FAST = settings(max_examples=10, deadline=None)


class _ScalarWriter(LegacyWriter):
    """The legacy writer without the plan's fused runs: one scalar call per element."""

    run = Visitor.run


class _ScalarReader(LegacyReader):
    run = Visitor.run


def _roundtrip(desc: Description, state: dict[str, Any]) -> None:
    assert from_json(desc, state) == state, "generated states are valid"
    before = copy.deepcopy(state)
    data = encode(desc, state)
    assert encode(desc, copy.deepcopy(before)) == data, "encoding is deterministic"
    w = _ScalarWriter()
    Walk(w).device(desc, desc.version_id, copy.deepcopy(before))
    assert bytes(w.out) == data, "walk (scalar by scalar) and plan (fused runs) agree"
    prior = prior_for(desc, desc, before)
    loaded = decode(desc, data, desc.version_id, prior)
    assert normalize(loaded) == before
    r = _ScalarReader(data)
    again = Walk(r).device(desc, desc.version_id, prior_for(desc, desc, before))
    assert r.pos == len(data) and normalize(again) == before


@pytest.mark.parametrize(("device", "version"), CATALOG, ids=[f"{d}@{v}" for d, v in CATALOG])
@FAST
@given(data=st.data())
def test_catalog_roundtrip(device: str, version: int, data: st.DataObject) -> None:
    desc = load()[device].at(version)
    _roundtrip(desc, data.draw(states(desc), label="state"))


@settings(max_examples=40, deadline=None)
@given(desc=descriptions(), data=st.data())
def test_random_description_roundtrip(desc: Description, data: st.DataObject) -> None:
    _roundtrip(desc, data.draw(states(desc), label="state"))


@settings(max_examples=30, deadline=None)
@given(desc=descriptions(), data=st.data())
def test_states_of_older_versions_are_valid(desc: Description, data: st.DataObject) -> None:
    v = data.draw(st.integers(desc.minimum_version_id, desc.version_id), label="version")
    s = data.draw(states(desc, v), label="state")
    for f in desc.fields:
        if f.exists is None and f.version_id > v:
            assert f.name not in s, "fields newer than the version are not drawn"


def test_states_strategy_is_cached_per_description() -> None:
    desc = load()["ps2kbd"].latest
    assert states(desc) is states(desc)
