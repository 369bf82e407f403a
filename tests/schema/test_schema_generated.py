"""Generated JSON Schemas: goldens, meta-schema, every decoded state validates, negatives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vmcompat.catalog._sample import sample_state
from vmcompat.cli import main
from vmcompat.dsl import bool_, buffer, device, int8, uint8, uint16, uint16_equal
from vmcompat.formats import FORMATS
from vmcompat.matrix.engine import prior_for
from vmcompat.predicates import parse
from vmcompat.schema import catalog_versions, golden_path, predicate_schema, render, schema
from vmcompat.state import to_json

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden" / "schemas"
VERSIONS = catalog_versions()
IDS = [f"{n}@{d.version_id}" for n, d in VERSIONS]
V = jsonschema.Draft202012Validator

REGENERATE = "vmcompat schema --goldens golden/schemas"


@pytest.mark.parametrize(("name", "desc"), VERSIONS, ids=IDS)
def test_schema_equals_golden(name: str, desc) -> None:
    path = golden_path(str(GOLDEN), name, desc.version_id)
    assert os.path.exists(path), f"no golden {path}: run `{REGENERATE}`"
    with open(path, encoding="utf-8") as fh:
        assert fh.read() == render(desc), f"schema changed: review, then run `{REGENERATE}`"


def test_no_stale_goldens() -> None:
    want = {golden_path(str(GOLDEN), n, d.version_id) for n, d in VERSIONS}
    have = {str(p) for p in GOLDEN.glob("*/v*.schema.json")}
    assert have == want, f"stale or missing schema goldens: {sorted(have ^ want)}"


@pytest.mark.parametrize(("name", "desc"), VERSIONS, ids=IDS)
def test_decoded_states_validate(name: str, desc) -> None:
    """The schema is a valid 2020-12 schema; the sample state and what every wire decodes
    from it validate."""
    s = schema(desc)
    V.check_schema(s)
    state = sample_state(desc)
    V(s).validate(to_json(state))
    for w, fmt in FORMATS.items():
        out = fmt.decode(desc, fmt.encode(desc, state), desc.version_id,
                         prior_for(desc, desc, state))
        V(s).validate(to_json(out)), w


D = device("d", 1, uint8("a"), int8("b", array=2), buffer("h", 2), bool_("f"),
           uint16("p", array=2, pointer=True), uint16_equal("m", default=7),
           uint8("o", exists={"field": "a", "op": "eq", "value": 1}))
GOOD = {"a": 1, "b": [-128, 127], "h": "00ff", "f": True, "p": [None, 65535], "m": 7, "o": 3}


@pytest.mark.parametrize(("change", "ok"), [
    ({}, True),
    ({"a": 256}, False), ({"a": -1}, False), ({"a": True}, False), ({"a": 1.5}, False),
    ({"b": [1]}, False), ({"b": [1, 2, 3]}, False), ({"b": [-129, 0]}, False),
    ({"h": "00f"}, False), ({"h": "00FF"}, False), ({"h": "0000ff"}, False),
    ({"f": 1}, False), ({"p": [None, None]}, True), ({"m": 8}, False),
    ({"x": 1}, False), ({"o": None}, False),
])
def test_schema_accepts_and_rejects(change: dict, ok: bool) -> None:
    s = {**GOOD, **change}
    s = {k: v for k, v in s.items() if v is not None or k == "p"}
    assert V(schema(D)).is_valid(s) is ok


def test_exists_field_required_only_when_its_test_holds() -> None:
    v = V(schema(D))
    assert not v.is_valid({k: x for k, x in GOOD.items() if k != "o"})
    assert v.is_valid({**{k: x for k, x in GOOD.items() if k != "o"}, "a": 2})


PREDICATES = st.recursive(
    st.builds(lambda f, op, val: {"field": f, "op": op, "value": val},
              st.sampled_from("xy"), st.sampled_from(["eq", "ne"]), st.integers(0, 2))
    | st.builds(lambda f, op: {"field": f, "op": op}, st.sampled_from("xy"),
                st.sampled_from(["zero", "nonzero"]))
    | st.booleans(),
    lambda inner: st.lists(inner, min_size=1, max_size=3).map(lambda ps: {"all": ps})
    | st.lists(inner, min_size=1, max_size=3).map(lambda ps: {"any": ps})
    | inner.map(lambda p: {"not": p}),
    max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(PREDICATES, st.dictionaries(st.sampled_from("xy"), st.integers(0, 2) | st.booleans()))
def test_predicate_schema_agrees_with_the_predicate(p, state) -> None:
    pred = parse(p)
    assert V(predicate_schema(pred)).is_valid(state) is pred(state)


def test_cli_schema(tmp_path) -> None:
    r = CliRunner().invoke(main, ["schema", "catalog:apic", "--version", "2"])
    assert r.exit_code == 0 and json.loads(r.output)["title"] == "apic v2 state"
    out = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["schema", "catalog:apic@2", "-o", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text()) == schema(
        next(d for n, d in VERSIONS if n == "apic" and d.version_id == 2))
    r = CliRunner().invoke(main, ["schema", "catalog:nope@1"])
    assert r.exit_code == 2 and "no device 'nope'" in r.output
    r = CliRunner().invoke(main, ["schema", "--goldens", str(tmp_path / "g")])
    assert r.exit_code == 0 and len(r.output.splitlines()) == len(VERSIONS)
