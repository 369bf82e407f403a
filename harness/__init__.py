"""vmcompat: property-based compatibility testing of QEMU VMState serialization.

The public surface is re-exported here; everything else lives in modules. The
names are imported on first use (PEP 562), so ``import harness.cli`` or
``vmcompat --version`` does not pay for the codecs.

>>> from harness import dsl, encode, decode
>>> d = dsl.device("dev", 1, dsl.uint16("a"))
>>> decode(d, encode(d, {"a": 7}), 1)
{'a': 7}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness import dsl
    from harness.errors import InputError, LoadError, Reason, VmcompatError
    from harness.formats import FORMATS, Format
    from harness.formats.legacy import decode, decode_from, encode
    from harness.model import Description, DeviceHistory, Feature, Field, Marker, Subsection
    from harness.walk import Visitor, Walk

#: public name -> the module that defines it
_HOMES: dict[str, str] = {
    "FORMATS": "harness.formats",
    "Description": "harness.model",
    "DeviceHistory": "harness.model",
    "Feature": "harness.model",
    "Field": "harness.model",
    "Format": "harness.formats",
    "InputError": "harness.errors",
    "LoadError": "harness.errors",
    "Marker": "harness.model",
    "Reason": "harness.errors",
    "Subsection": "harness.model",
    "Visitor": "harness.walk",
    "VmcompatError": "harness.errors",
    "Walk": "harness.walk",
    "decode": "harness.formats.legacy",
    "decode_from": "harness.formats.legacy",
    "dsl": "harness.dsl",
    "encode": "harness.formats.legacy",
}

__all__ = [
    "FORMATS",
    "Description",
    "DeviceHistory",
    "Feature",
    "Field",
    "Format",
    "InputError",
    "LoadError",
    "Marker",
    "Reason",
    "Subsection",
    "Visitor",
    "VmcompatError",
    "Walk",
    "decode",
    "decode_from",
    "dsl",
    "encode",
]
assert sorted(__all__) == sorted(_HOMES), "__all__ and _HOMES name the same names"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home == f"harness.{name}" else getattr(module, name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
