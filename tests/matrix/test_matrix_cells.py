"""Cells: feature combinations, directions, sharding, DESC grouping."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmcompat.dsl import device, uint8
from vmcompat.errors import InputError
from vmcompat.matrix import build_cells, direction, feature_sets, parse_shard, shard
from vmcompat.matrix._subjects import from_args, subjects
from vmcompat.model import DeviceHistory, Feature

NAMES = st.integers(0, 7).map(lambda k: tuple(f"f{i}" for i in range(k)))


@given(NAMES)
def test_pairwise_covers_every_pair_of_on_off(names):
    rows = feature_sets(names, "pairwise")
    assert rows[0] == ()
    assert len(set(rows)) == len(rows)
    for a, b in combinations(names, 2):
        seen = {(a in r, b in r) for r in rows}
        assert seen == {(False, False), (False, True), (True, False), (True, True)}
    assert len(rows) <= max(1, 2 ** len(names))


@given(NAMES)
def test_all_and_none(names):
    assert feature_sets(names, "none") == [()]
    rows = feature_sets(names, "all")
    assert len(rows) == 2 ** len(names) and len(set(rows)) == len(rows)


def test_pairwise_is_smaller_than_all_for_many_features():
    names = tuple(f"f{i}" for i in range(6))
    assert len(feature_sets(names, "pairwise")) < len(feature_sets(names, "all")) // 4


def test_unknown_mode():
    with pytest.raises(InputError):
        feature_sets(("a",), "some")


@given(st.lists(st.integers(), max_size=40), st.integers(1, 9))
def test_shards_partition_the_cells(items, n):
    parts = [shard(items, i, n) for i in range(1, n + 1)]
    assert sorted(x for p in parts for x in p) == sorted(items)
    assert sum(len(p) for p in parts) == len(items)


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "1"])
def test_bad_shards(text):
    with pytest.raises(InputError):
        parse_shard(text)


def test_directions_say_what_happens():
    """An older version's data loaded by a newer one is an upgrade (QEMU's forward
    migration), the reverse a downgrade; a cell of one version is neither."""
    assert (direction(1, 2), direction(2, 1), direction(2, 2)) == (
        "upgrade", "downgrade", "same")
    cells = build_cells({"d": _hist("d", (1, 2))}, ["legacy"], "none")
    assert {(c.source, c.destination): c.direction for c in cells} == {
        ("1", "1"): "same", ("1", "2"): "upgrade", ("2", "1"): "downgrade",
        ("2", "2"): "same"}
    up = build_cells({"d": _hist("d", (1, 2))}, ["legacy"], "none", "upgrade")
    assert [(c.source, c.destination) for c in up] == [("1", "1"), ("1", "2"), ("2", "2")]


def _hist(name, versions, feats=()):
    return DeviceHistory(name, tuple(device(name, v, uint8("a")) for v in versions),
                         features=tuple(Feature(f, lambda d: d) for f in feats))


def test_cell_count_is_the_product_of_the_axes():
    hs = {"a": _hist("a", (1, 2, 3)), "b": _hist("b", (1, 2), ("x", "y", "z"))}
    cells = build_cells(hs, ["legacy", "json"], "pairwise")
    assert len(cells) == 9 * 2 + 4 * 2 * 4
    assert len(build_cells(hs, ["legacy"], "all")) == 9 + 4 * 8
    assert len({c.key() for c in cells}) == len(cells)
    assert cells[0].device == "a" and cells[0].source == "1" and cells[0].destination == "1"


def test_desc_arguments_group_versions(tmp_path):
    hs = from_args(["catalog:ps2kbd", "catalog:serial@2", "catalog:serial@3"])
    assert set(hs) == {"ps2kbd", "serial"}
    assert hs["serial"].version_ids == (2, 3)
    with pytest.raises(InputError):
        subjects("builtin", ["catalog:ps2kbd"])
    with pytest.raises(InputError):
        subjects("other", [])
