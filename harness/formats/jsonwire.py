"""The JSON wire (``--wire json``): the BER wire's attributes and semantics, in UTF-8 JSON.

A payload is ``{"attributes": [...], "device": NAME, "version": N}``; an
attribute is ``{"must": bool, "name": NAME, "value": V}``; a value is an
object with exactly one key naming its kind (the ASN.1 module's CHOICE):
``{"integer": 5}``, ``{"boolean": true}``, ``{"octets": "00ff"}`` (lowercase
hex), ``{"null": null}``, ``{"struct": [attributes]}``, ``{"list": [values]}``,
``{"tree": [[key, value], ...]}``, ``{"subsection": {"attributes", "name",
"version"}}``. Keys are sorted and separators fixed, so the bytes are
deterministic; integers are exact (any size), a float, NaN, a duplicate key
or trailing bytes are refused (:class:`~vmcompat.errors.StreamError`).
Load semantics: :mod:`vmcompat.formats._selfdesc` (by name, must-parse flags).

>>> from vmcompat.dsl import device, uint8
>>> d = device("dev", 1, uint8("a"))
>>> encode(d, {"a": 7})
b'{"attributes":[{"must":true,"name":"a","value":{"integer":7}}],"device":"dev","version":1}'
"""

from __future__ import annotations

import json
from typing import Any

from vmcompat.errors import StreamError
from vmcompat.formats._selfdesc import KINDS, read_tree, write_tree
from vmcompat.model import Description


class _Bad(Exception):
    pass


def _shape(ok: bool, what: str) -> None:
    if not ok:
        raise StreamError(detail=f"malformed JSON wire: {what}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _payload_ok(kind: str, p: Any) -> bool:
    return _PAYLOAD_OK[kind](p)


_PAYLOAD_OK = {
    "integer": _is_int,
    "boolean": lambda p: isinstance(p, bool),
    "octets": lambda p: isinstance(p, str),
    "null": lambda p: p is None,
    "struct": lambda p: isinstance(p, list),
    "list": lambda p: isinstance(p, list),
    "tree": lambda p: isinstance(p, list) and all(isinstance(n, list) and len(n) == 2 for n in p),
    "subsection": lambda p: (isinstance(p, dict) and set(p) == {"name", "version", "attributes"}
                             and isinstance(p["name"], str) and _is_int(p["version"])
                             and isinstance(p["attributes"], list)),
}
assert set(_PAYLOAD_OK) == set(KINDS)


class JsonDialect:
    """Nodes as JSON-ready Python values."""

    @staticmethod
    def integer(v: int) -> Any:
        return {"integer": v}

    @staticmethod
    def boolean(v: bool) -> Any:
        return {"boolean": v}

    @staticmethod
    def octets(v: bytes) -> Any:
        return {"octets": v.hex()}

    @staticmethod
    def null() -> Any:
        return {"null": None}

    @staticmethod
    def struct(attrs: list[Any]) -> Any:
        return {"struct": attrs}

    @staticmethod
    def list(items: list[Any]) -> Any:
        return {"list": items}

    @staticmethod
    def tree(pairs: list[tuple[Any, Any]]) -> Any:
        return {"tree": [[k, v] for k, v in pairs]}

    @staticmethod
    def subsection(name: str, version: int, attrs: list[Any]) -> Any:
        return {"subsection": {"name": name, "version": version, "attributes": attrs}}

    @staticmethod
    def attr(name: str, must: bool, value: Any) -> Any:
        return {"name": name, "must": must, "value": value}

    @staticmethod
    def device(name: str, version: int, attrs: list[Any]) -> Any:
        return {"device": name, "version": version, "attributes": attrs}

    @staticmethod
    def struct_attrs(node: Any) -> list[Any]:
        return node["struct"]

    @staticmethod
    def kind(node: Any) -> tuple[str, Any]:
        _shape(isinstance(node, dict) and len(node) == 1, f"a value is an object with one "
                                                          f"kind key, got {node!r:.60}")
        ((k, p),) = node.items()
        _shape(k in _PAYLOAD_OK and _payload_ok(k, p), f"bad {k!r} value {p!r:.60}")
        if k == "octets":
            try:
                return k, bytes.fromhex(p)
            except ValueError:
                raise StreamError(detail=f"malformed JSON wire: bad hex {p!r:.60}") from None
        if k == "tree":
            return k, [(n[0], n[1]) for n in p]
        if k == "subsection":
            return k, (p["name"], p["version"], p["attributes"])
        return k, p

    @staticmethod
    def attr_parts(a: Any) -> tuple[str, bool, Any]:
        _shape(isinstance(a, dict) and set(a) == {"name", "must", "value"}
               and isinstance(a["name"], str) and isinstance(a["must"], bool),
               f"an attribute is {{name, must, value}}, got {a!r:.60}")
        return a["name"], a["must"], a["value"]

    @staticmethod
    def device_parts(d: Any) -> tuple[str, int, list[Any]]:
        _shape(isinstance(d, dict) and set(d) == {"device", "version", "attributes"}
               and isinstance(d["device"], str) and _is_int(d["version"])
               and isinstance(d["attributes"], list),
               "a payload is {device, version, attributes}")
        return d["device"], d["version"], d["attributes"]


DIALECT = JsonDialect()


def encode(desc: Description, state: Any) -> bytes:
    """Deterministic UTF-8 JSON of a validated state saved with ``desc``."""
    tree = write_tree(DIALECT, desc, state)
    return json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Bad("duplicate key")
    return out


def _no_float(s: str) -> Any:
    raise _Bad(f"non-integer number {s}")


def decode(desc: Description, data: bytes | bytearray | memoryview, version: int | None = None,
           into: Any = None) -> Any:
    """Load a JSON-wire payload with ``desc`` (by name); ``into`` is the prior state."""
    try:
        tree = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=_no_dupes,
                          parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, _Bad, RecursionError) as e:
        raise StreamError(device=desc.name, detail=f"not a JSON VMState device: {e}") from None
    try:
        _, stream_version, _ = DIALECT.device_parts(tree)
    except StreamError as e:
        raise e.at(device=desc.name) from None
    if version is not None and version != stream_version:
        raise StreamError(device=desc.name,
                          detail=f"the stream says version {stream_version}, the caller {version}")
    return read_tree(DIALECT, desc, tree, into)


from vmcompat.formats import Format, register  # noqa: E402  (registry import at the end)

JSON = register(Format("json", encode, decode, self_describing=True,
                       doc="JSON: the BER wire's attributes, deterministic UTF-8"))
