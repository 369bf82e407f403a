"""Encode+decode throughput of the three wires on the same states, same run; and the ASN.1
library choice (asn1tools vs pyasn1) measured on the same BER value trees.

Run: ``python -m pytest bench/test_wires_bench.py --benchmark-only -p no:randomly``.
Ratios (time of X / time of the legacy wire; and pyasn1 / asn1tools) are printed and
stored in each benchmark's ``extra_info``. States: the sample state of the newest version
of every catalog device (deterministic).
"""

from __future__ import annotations

from typing import Any

import pytest
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pyasn1.type import char, namedtype, tag, univ

from vmcompat.catalog import load
from vmcompat.catalog._sample import sample_state
from vmcompat.formats import FORMATS
from vmcompat.formats._selfdesc import write_tree
from vmcompat.formats.ber import DIALECT, spec
from vmcompat.matrix.engine import prior_for

CASES = [(h.latest, sample_state(h.latest)) for _, h in sorted(load().items())]
PRIORS = [prior_for(d, d, s) for d, s in CASES]
_times: dict[str, float] = {}


def _roundtrip(wire: str) -> Any:
    fmt = FORMATS[wire]
    for (d, s), p in zip(CASES, PRIORS):
        fmt.decode(d, fmt.encode(d, s), d.version_id, p)


def _report(benchmark: Any, key: str, base: str, label: str) -> None:
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing measured
        return
    _times[key] = benchmark.stats.stats.median
    if base in _times and key != base:
        ratio = _times[key] / _times[base]
        benchmark.extra_info[f"ratio_{key}_over_{base}"] = ratio
        print(f"\n{label}: {ratio:.2f}")


@pytest.mark.parametrize("wire", ["legacy", "ber", "json"])
def test_bench_wire_roundtrip(benchmark: Any, wire: str) -> None:
    benchmark(_roundtrip, wire)
    _report(benchmark, wire, "legacy", f"{wire} encode+decode time / legacy's")


def test_sizes() -> None:
    sizes = {w: sum(len(FORMATS[w].encode(d, s)) for d, s in CASES) for w in FORMATS}
    print(f"\nbytes for {len(CASES)} catalog states: {sizes}")
    assert sizes["legacy"] < sizes["ber"] < sizes["json"]


# ----------------------------------------------------------------------------- ASN.1 libraries
def _ctx(n: int, constructed: bool = False) -> tag.Tag:
    return tag.Tag(tag.tagClassContext,
                   tag.tagFormatConstructed if constructed else tag.tagFormatSimple, n)


class Value(univ.Choice):
    pass


class Attribute(univ.Sequence):
    pass


class Attributes(univ.SetOf):
    componentType = Attribute()


class Node(univ.Sequence):
    pass


class Subsection(univ.Sequence):
    pass


class ValueList(univ.SequenceOf):
    componentType = Value()


class NodeList(univ.SequenceOf):
    componentType = Node()


Attribute.componentType = namedtype.NamedTypes(
    namedtype.NamedType("name", char.UTF8String().subtype(implicitTag=_ctx(0))),
    namedtype.NamedType("mustParse", univ.Boolean().subtype(implicitTag=_ctx(1))),
    namedtype.NamedType("value", Value().subtype(explicitTag=_ctx(2, True))))
Node.componentType = namedtype.NamedTypes(
    namedtype.NamedType("key", Value().subtype(explicitTag=_ctx(0, True))),
    namedtype.NamedType("value", Value().subtype(explicitTag=_ctx(1, True))))
Subsection.componentType = namedtype.NamedTypes(
    namedtype.NamedType("name", char.UTF8String().subtype(implicitTag=_ctx(0))),
    namedtype.NamedType("version", univ.Integer().subtype(implicitTag=_ctx(1))),
    namedtype.NamedType("attributes", Attributes().subtype(implicitTag=_ctx(2, True))))
Value.componentType = namedtype.NamedTypes(
    namedtype.NamedType("integer", univ.Integer().subtype(implicitTag=_ctx(0))),
    namedtype.NamedType("boolean", univ.Boolean().subtype(implicitTag=_ctx(1))),
    namedtype.NamedType("octets", univ.OctetString().subtype(implicitTag=_ctx(2))),
    namedtype.NamedType("null", univ.Null().subtype(implicitTag=_ctx(3))),
    namedtype.NamedType("struct", Attributes().subtype(implicitTag=_ctx(4, True))),
    namedtype.NamedType("list", ValueList().subtype(implicitTag=_ctx(5, True))),
    namedtype.NamedType("tree", NodeList().subtype(implicitTag=_ctx(6, True))),
    namedtype.NamedType("subsection", Subsection().subtype(implicitTag=_ctx(7, True))))


class Device(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("name", char.UTF8String().subtype(implicitTag=_ctx(0))),
        namedtype.NamedType("version", univ.Integer().subtype(implicitTag=_ctx(1))),
        namedtype.NamedType("attributes", Attributes().subtype(implicitTag=_ctx(2, True))))


def _close_recursion(obj: Any, seen: set[int]) -> None:
    """pyasn1 templates copy componentType at creation: patch the recursive cycle closed."""
    if id(obj) in seen or not hasattr(type(obj), "componentType"):
        return
    seen.add(id(obj))
    want = type(obj).componentType
    if obj.__dict__.get("componentType") is not want:
        obj.__dict__["componentType"] = want
        obj._readOnly["componentType"] = want
        if isinstance(obj, univ.SequenceAndSetBase):
            obj._componentTypeLen = len(want)
            obj._componentValues = [] if len(want) else univ.noValue
            obj._dynamicNames = obj._componentTypeLen or obj.DynamicNames()
    if isinstance(want, namedtype.NamedTypes):
        for nt in want.namedTypes:
            _close_recursion(nt.asn1Object, seen)
    elif want is not None:
        _close_recursion(want, seen)


for _c in (Device, Value, Attribute, Node, Subsection):
    _close_recursion(_c(), set())
for _c in (Attributes, ValueList, NodeList):
    _close_recursion(_c.componentType, set())


def _fill_attrs(target: Any, attrs: list[Any]) -> None:
    for a in attrs:
        at = Attribute()
        at["name"] = a["name"]
        at["mustParse"] = a["mustParse"]
        _fill_value(at["value"], a["value"])
        target.append(at)


def _fill_value(v: Any, node: Any) -> None:
    kind, p = node
    if kind in ("integer", "boolean", "octets"):
        v[kind] = p
    elif kind == "null":
        v["null"] = ""
    elif kind == "struct":
        _fill_attrs(v["struct"], p)
    elif kind == "list":
        lst = v["list"]
        for item in p:
            x = Value()
            _fill_value(x, item)
            lst.append(x)
    elif kind == "tree":
        nodes = v["tree"]
        for n in p:
            nd = Node()
            _fill_value(nd["key"], n["key"])
            _fill_value(nd["value"], n["value"])
            nodes.append(nd)
    else:
        sub = v["subsection"]
        sub["name"], sub["version"] = p["name"], p["version"]
        _fill_attrs(sub["attributes"], p["attributes"])


def _py_attrs(attrs: Any) -> list[Any]:
    return [{"name": str(a["name"]), "mustParse": bool(a["mustParse"]),
             "value": _py_value(a["value"])} for a in attrs]


def _py_value(v: Any) -> Any:
    kind = v.getName()
    p = v.getComponent()
    conv = {"integer": int, "boolean": bool, "octets": bytes, "null": lambda _: None,
            "struct": _py_attrs, "list": lambda x: [_py_value(i) for i in x],
            "tree": lambda x: [{"key": _py_value(n["key"]), "value": _py_value(n["value"])}
                               for n in x],
            "subsection": lambda x: {"name": str(x["name"]), "version": int(x["version"]),
                                     "attributes": _py_attrs(x["attributes"])}}
    return (kind, conv[kind](p))


def pyasn1_encode(tree: Any) -> bytes:
    d = Device()
    d["name"], d["version"] = tree["name"], tree["version"]
    _fill_attrs(d["attributes"], tree["attributes"])
    return pyasn1_encoder.encode(d)


def pyasn1_decode(data: bytes) -> Any:
    d, rest = pyasn1_decoder.decode(data, asn1Spec=Device())
    assert not rest
    return {"name": str(d["name"]), "version": int(d["version"]),
            "attributes": _py_attrs(d["attributes"])}


TREES = [write_tree(DIALECT, d, s) for d, s in CASES]


def _asn1tools_roundtrip() -> None:
    c = spec()
    for t in TREES:
        c.decode("Device", c.encode("Device", t))


def _pyasn1_roundtrip() -> None:
    for t in TREES:
        pyasn1_decode(pyasn1_encode(t))


def test_asn1_libraries_agree() -> None:
    """Both libraries read each other's bytes to the same value tree."""
    c = spec()
    for t in TREES:
        assert pyasn1_decode(bytes(c.encode("Device", t))) == t
        assert c.decode("Device", pyasn1_encode(t)) == t


@pytest.mark.parametrize("lib", ["asn1tools", "pyasn1"])
def test_asn1_library_roundtrip(benchmark: Any, lib: str) -> None:
    benchmark(_asn1tools_roundtrip if lib == "asn1tools" else _pyasn1_roundtrip)
    _report(benchmark, lib, "asn1tools", "pyasn1 encode+decode time / asn1tools'")
