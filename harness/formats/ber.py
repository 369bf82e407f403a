"""The BER wire (``--wire ber``): ASN.1 module ``vmstate.asn``, encoded with asn1tools.

A device is a SET OF attributes (name, must-parse flag, typed value); the
load semantics (by name, must-parse, type checks, versions) are those of
:mod:`vmcompat.formats._selfdesc`. The writer/reader are visitors of the walk
(:class:`~vmcompat.formats._selfdesc.TreeWriter`/``TreeReader`` with the
:class:`BerDialect`): the walk builds the value tree, asn1tools makes the bytes.

Why asn1tools and not pyasn1, measured (``bench/test_wires_bench.py``
``test_asn1_library_roundtrip``: BER encode + decode of the same value trees,
the sample states of the 23 catalog devices, same run): median 25 ms with
asn1tools, 244 ms with pyasn1 (ratio 9.7). Besides speed, asn1tools compiles
the ASN.1 module text itself (``vmstate.asn`` is the single source of the
format), handles its recursive types (Value -> struct -> Attribute -> Value)
natively where pyasn1 needs hand-written classes whose templates must be
patched after creation to close the cycle, and maps values to plain Python
(tuples for CHOICE, dicts for SEQUENCE), so the dialect is a few lines. The
two read each other's bytes (``test_asn1_libraries_agree``; they differ only
in TRUE = 0xff vs 0x01).

>>> from vmcompat.dsl import device, uint16, uint8
>>> d = device("dev", 1, uint16("a"), uint8("b"))
>>> decode(d, encode(d, {"a": 258, "b": 3}), 1)
{'a': 258, 'b': 3}
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from vmcompat.errors import StreamError, TrailingData
from vmcompat.formats._selfdesc import read_tree, write_tree
from vmcompat.model import Description

ASN1_MODULE = "vmstate.asn"


@cache
def spec() -> Any:
    """The compiled ASN.1 module (BER codec), compiled once."""
    import asn1tools  # imported on first use: it is slow to import (the CLI starts faster)

    text = resources.files("vmcompat.formats").joinpath(ASN1_MODULE).read_text("utf-8")
    return asn1tools.compile_string(text, "ber")


class BerDialect:
    """Nodes in asn1tools' Python form: CHOICE = (name, value), SEQUENCE = dict."""

    @staticmethod
    def integer(v: int) -> Any:
        return ("integer", v)

    @staticmethod
    def boolean(v: bool) -> Any:
        return ("boolean", v)

    @staticmethod
    def octets(v: bytes) -> Any:
        return ("octets", v)

    @staticmethod
    def null() -> Any:
        return ("null", None)

    @staticmethod
    def struct(attrs: list[Any]) -> Any:
        return ("struct", attrs)

    @staticmethod
    def list(items: list[Any]) -> Any:
        return ("list", items)

    @staticmethod
    def tree(pairs: list[tuple[Any, Any]]) -> Any:
        return ("tree", [{"key": k, "value": v} for k, v in pairs])

    @staticmethod
    def subsection(name: str, version: int, attrs: list[Any]) -> Any:
        return ("subsection", {"name": name, "version": version, "attributes": attrs})

    @staticmethod
    def attr(name: str, must: bool, value: Any) -> Any:
        return {"name": name, "mustParse": must, "value": value}

    @staticmethod
    def device(name: str, version: int, attrs: list[Any]) -> Any:
        return {"name": name, "version": version, "attributes": attrs}

    @staticmethod
    def struct_attrs(node: Any) -> list[Any]:
        return node[1]

    @staticmethod
    def kind(node: Any) -> tuple[str, Any]:
        k, p = node
        if k == "tree":
            return k, [(n["key"], n["value"]) for n in p]
        if k == "subsection":
            return k, (p["name"], p["version"], p["attributes"])
        return node

    @staticmethod
    def attr_parts(a: Any) -> tuple[str, bool, Any]:
        return a["name"], a["mustParse"], a["value"]

    @staticmethod
    def device_parts(d: Any) -> tuple[str, int, list[Any]]:
        return d["name"], d["version"], d["attributes"]


DIALECT = BerDialect()


def encode(desc: Description, state: Any) -> bytes:
    """The BER encoding of a validated state saved with ``desc``."""
    return bytes(spec().encode("Device", write_tree(DIALECT, desc, state)))


def decode(desc: Description, data: bytes | bytearray | memoryview, version: int | None = None,
           into: Any = None) -> Any:
    """Load a BER payload with ``desc`` (by name); ``into`` is the destination's prior state.

    The version travels in the payload; ``version`` (the legacy section header's) is
    not needed and, when given, must agree with it.
    """
    codec = spec()
    try:
        tree, length = codec.decode_with_length("Device", bytes(data))
    except Exception as e:  # asn1tools' own faults on bad bytes (a TypeError deep in its
        # decoder) are bad bytes all the same: typed here, whatever their class
        raise StreamError(device=desc.name, offset=getattr(e, "offset", None),
                          detail=f"not a BER VMState device: {e}") from None
    if length != len(data):
        raise TrailingData(device=desc.name, offset=length, count=len(data) - length)
    _check_version_arg(desc, tree["version"], version)
    return read_tree(DIALECT, desc, tree, into)


def _check_version_arg(desc: Description, stream: int, given: int | None) -> None:
    if given is not None and given != stream:
        raise StreamError(device=desc.name,
                          detail=f"the stream says version {stream}, the caller {given}")


from vmcompat.formats import Format, register  # noqa: E402  (registry import at the end)

BER = register(Format("ber", encode, decode, self_describing=True,
                      doc="ASN.1 BER: attributes by name with must-parse flags"))
