"""JSON Schema (draft 2020-12) of a description version's state JSON: a virtual visitor.

:class:`SchemaBuilder` walks a description without a state (``virtual``,
``all_fields``) and returns the schema of its state JSON (:mod:`vmcompat.state`):

* integers: ``{"type": "integer", "minimum", "maximum"}`` of the wire type
  (timers are int64); booleans ``{"type": "boolean"}``; an ``equal`` field with
  a ``default`` is that ``const`` and an ``int32 le`` field is within
  ``[0, default]`` (the values its own description loads);
* buffers: lowercase hex strings of exactly ``2n`` characters (``pattern``);
* fixed arrays and bitmaps (64-bit words): arrays with ``minItems = maxItems``;
  elements of arrays of pointers may be ``null``;
* structs: objects, ``additionalProperties: false``, every on-wire field
  without a ``default`` or ``exists`` test ``required``; a field with an
  ``exists`` test is required exactly when its test holds (``if``/``then``);
  off-wire fields (immutable, derived) are optional;
* subsections: optional objects under ``__subsections__``, keyed by full
  name, required when their ``needed`` predicate holds (``if``/``then``);
* qtailq/qlist: arrays of element objects (a marker field is one of the
  marker's values, a sentinel field is nonzero); gtree: arrays of
  ``[key, value]`` pairs.

Two constraints JSON Schema cannot state, left to
:func:`vmcompat.state.from_json` (and to :func:`sync` for generated states):
a variable array's length equals its count field (the array's
``description`` names the field), and a direct-key gtree's keys are unique
and increasing.

>>> from vmcompat.dsl import device, buffer, uint8
>>> s = schema(device("d", 1, uint8("a"), buffer("b", 2)))
>>> s["properties"]["a"], s["properties"]["b"]["pattern"], s["required"]
({'type': 'integer', 'minimum': 0, 'maximum': 255}, '^[0-9a-f]{4}$', ['a', 'b'])

Regenerate the committed goldens (``golden/schemas/<device>/v<N>.schema.json``)
with ``vmcompat schema --goldens golden/schemas`` (see :func:`write_goldens`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vmcompat.errors import Path
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.predicates import All, AnyOf, Cmp, Const, Not, Predicate, fold
from vmcompat.types import TYPES, WireType
from vmcompat.walk import Frame, Visitor, Walk

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

_FALSY = [0, False, None, "", [], {}]


# ----------------------------------------------------------------------------- predicates
def _truthy(name: str) -> Schema:
    return {"required": [name], "properties": {name: {"not": {"enum": _FALSY}}}}


def _equals(v: Any) -> Schema:
    """Python's ``==``: ``False == 0`` and ``True == 1`` (a bool field against an int)."""
    if isinstance(v, bool) or (isinstance(v, int) and v in (0, 1)):
        return {"enum": [v, int(v) if isinstance(v, bool) else bool(v)]}
    return {"const": v}


def _cmp(p: Cmp) -> Schema:
    eq = {"required": [p.field], "properties": {p.field: _equals(p.value)}}
    return _CMP[p.op](p, eq)


_CMP = {
    "eq": lambda p, eq: eq,
    "ne": lambda p, eq: {"not": eq},
    "nonzero": lambda p, eq: _truthy(p.field),
    "zero": lambda p, eq: {"not": _truthy(p.field)},
}


def predicate_schema(p: Predicate) -> Schema:
    """A schema that an object satisfies iff ``p`` holds on it.

    >>> from vmcompat.predicates import parse
    >>> predicate_schema(parse({"field": "m", "op": "eq", "value": 2}))
    {'required': ['m'], 'properties': {'m': {'const': 2}}}
    """
    return fold(p, lambda q, parts: _PRED[type(q)](q, parts))


_PRED: dict[type, Any] = {
    Const: lambda p, parts: {} if p.value else {"not": {}},
    Cmp: lambda p, parts: _cmp(p),
    All: lambda p, parts: {"allOf": parts},
    AnyOf: lambda p, parts: {"anyOf": parts},
    Not: lambda p, parts: {"not": parts[0]},
}


# ----------------------------------------------------------------------------- visitor
@dataclass(slots=True)
class _Frame:
    desc: Description
    properties: dict[str, Schema] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    conditional: list[Schema] = field(default_factory=list)


def _hex(n: int) -> Schema:
    return {"type": "string", "pattern": f"^[0-9a-f]{{{2 * n}}}$",
            "minLength": 2 * n, "maxLength": 2 * n}


class SchemaBuilder(Visitor):
    """Builds the JSON Schema of a description's state (a virtual walk)."""

    virtual = True
    all_fields = True

    def start_struct(self, at: Frame, value: Any) -> Any:
        return _Frame(at.desc)

    def end_struct(self, at: Frame, value: Any) -> Any:
        fr: _Frame = value
        out: Schema = {"type": "object", "properties": fr.properties}
        if fr.required:
            out["required"] = fr.required
        out["additionalProperties"] = False
        if fr.conditional:
            out["allOf"] = fr.conditional
        return out

    def get(self, state: Any, name: str) -> Any:
        return None

    def put(self, state: Any, name: str, value: Any) -> Any:
        fr: _Frame = state
        if name == SUBSECTIONS_KEY:
            self._subsections(fr, value)
            return fr
        f = fr.desc.field(name)
        fr.properties[name] = value
        if f.on_wire and f.default is None:
            if f.exists is None:
                fr.required.append(name)
            else:
                fr.conditional.append({"if": predicate_schema(f.exists),
                                       "then": {"required": [name]}})
        return fr

    def _subsections(self, fr: _Frame, subs: Mapping[str, Schema]) -> None:
        fr.properties[SUBSECTIONS_KEY] = {"type": "object", "properties": dict(subs),
                                          "additionalProperties": False}
        for s in fr.desc.subsections:
            need = {"required": [SUBSECTIONS_KEY],
                    "properties": {SUBSECTIONS_KEY: {"required": [s.name]}}}
            if s.needed is None:
                fr.conditional.append(need)
            else:
                fr.conditional.append({"if": predicate_schema(s.needed), "then": need})

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        return t.schema(f.default)

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return _hex(n)

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        return True

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        elem = items[0]
        if f.pointer:
            elem = {"anyOf": [elem, {"type": "null"}]}
        out: Schema = {"type": "array", "items": elem}
        if f.array_len is not None:
            out["minItems"] = out["maxItems"] = f.array_len
        else:
            counter = TYPES[at.desc.field(str(f.varray)).type]
            out["maxItems"] = counter.hi
            out["description"] = f"length = the value of field '{f.varray}'"
        return out

    def bitmap(self, at: Frame, path: Path, f: Field, words: list[Any]) -> Any:
        return {"type": "array", "items": words[0], "minItems": f.words, "maxItems": f.words}

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        return i == 0, None

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        elem = dict(items[0])
        props = dict(elem["properties"])
        m = f.list_marker
        if m.field is not None:
            props[m.field] = {"enum": list(m.more)}
            if m.field not in elem.get("required", []):
                elem["required"] = [m.field, *elem.get("required", [])]
        if m.sentinel is not None:
            props[m.sentinel] = {"allOf": [props[m.sentinel], {"not": {"const": 0}}]}
        elem["properties"] = props
        return {"type": "array", "items": elem}

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        return 1

    def tree_node(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[Any, Any]:
        return None, None

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        key, val = nodes[0]
        pair = {"type": "array", "prefixItems": [key, val], "items": False,
                "minItems": 2, "maxItems": 2}
        out: Schema = {"type": "array", "items": pair}
        if isinstance(f.key, str):
            out["description"] = "keys unique, in increasing order"
        return out

    def subsections(self, at: Frame, state: Any) -> Any:
        for s in at.desc.subsections:
            yield s, s.description.version_id

    def unused(self, at: Frame, path: Path, f: Field, n: int) -> None:
        return None

    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        return 0


def schema(desc: Description, version: int | None = None) -> Schema:
    """The draft 2020-12 JSON Schema of ``desc``'s state JSON (as saved at ``version``:
    fields newer than it left out; default: the description's own version)."""
    v = desc.version_id if version is None else version
    body = Walk(SchemaBuilder()).device(desc, v, None)
    return {"$schema": DRAFT,
            "$id": f"urn:vmcompat:state:{desc.name}:v{v}",
            "title": f"{desc.name} v{v} state", **body}


# ----------------------------------------------------------------------------- generated states
class _Sync(Visitor):
    """Makes a schema-valid state consistent (counts = lengths, tree keys ordered)."""

    all_fields = True

    def get(self, state: Any, name: str) -> Any:
        return state.get(name) if isinstance(state, dict) else None

    def start_struct(self, at: Frame, value: Any) -> Any:
        state = dict(value)
        for f in at.desc.fields:
            if f.default is not None and f.name not in state:
                state[f.name] = f.default  # the legacy writer needs every on-wire field
            if f.varray is not None and isinstance(state.get(f.name), list):
                state[f.varray] = len(state[f.name])
        return state

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        return f.name in state

    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        v = state.get(f.name)
        return len(v) if isinstance(v, list) else 0

    def subsections(self, at: Frame, state: Any) -> Any:
        for s in at.desc.held_subsections(state.get(SUBSECTIONS_KEY)):
            yield s, s.description.version_id

    def end_subsections(self, at: Frame, state: Any) -> Any:
        held = state.get(SUBSECTIONS_KEY)
        if isinstance(held, dict):
            state[SUBSECTIONS_KEY] = {k: v for k, v in held.items()
                                      if (s := at.desc.subsection(k)) is None or s.is_needed(state)}
        return state

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        if isinstance(f.key, str):
            by_key = {k: v for k, v in nodes}
            return [[k, by_key[k]] for k in sorted(by_key)]
        return [[k, v] for k, v in nodes]

    def put(self, state: Any, name: str, value: Any) -> Any:
        if value is not None or name in state:
            state[name] = value
        return state


def sync(desc: Description, state: Any) -> Any:
    """A state generated from :func:`schema` made consistent: each count field is set to
    its array's length, direct gtree keys deduplicated and sorted (the two constraints
    JSON Schema cannot say), absent fields with a ``default`` filled in (the legacy
    writer needs every on-wire field; off-wire ones feed ``needed`` predicates), and
    subsections whose ``needed`` predicate is false dropped (never sent: a device
    holding one is legal state JSON, but its projection is the prior's business).
    Used by the hypothesis-jsonschema cross-check.
    """
    return Walk(_Sync()).device(desc, desc.version_id, state)


# ----------------------------------------------------------------------------- goldens
def golden_path(root: str, device: str, version: int) -> str:
    """``<root>/<catalog device name>/v<version>.schema.json``."""
    return os.path.join(root, device, f"v{version}.schema.json")


def render(desc: Description, version: int | None = None) -> str:
    """The schema as committed: 2-space JSON, sorted keys, newline at the end."""
    return json.dumps(schema(desc, version), indent=2, sort_keys=True) + "\n"


def catalog_versions() -> list[tuple[str, Description]]:
    """(catalog device name, description) of every catalog version."""
    from vmcompat.catalog import load

    return [(name, d) for name, h in sorted(load().items()) for d in h.versions]


def write_goldens(root: str) -> list[str]:
    """(Re)write the schema golden of every catalog version under ``root``; return the paths."""
    from vmcompat.atomic import write_atomic

    out = []
    for name, d in catalog_versions():
        p = golden_path(root, name, d.version_id)
        os.makedirs(os.path.dirname(p), exist_ok=True)  # --goldens DIR owns its tree
        write_atomic(p, render(d))
        out.append(p)
    return out


__all__ = ["SchemaBuilder", "catalog_versions", "golden_path",
           "predicate_schema", "render", "schema", "sync", "write_goldens"]
