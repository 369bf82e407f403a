"""vmcompat: property-based compatibility testing of QEMU VMState serialization.

The public surface is re-exported here; everything else lives in modules.

>>> from harness import dsl, encode, decode
>>> d = dsl.device("dev", 1, dsl.uint16("a"))
>>> decode(d, encode(d, {"a": 7}), 1)
{'a': 7}
"""

from __future__ import annotations

from harness import dsl
from harness.errors import InputError, LoadError, Reason, VmcompatError
from harness.formats import FORMATS, Format
from harness.formats.legacy import decode, decode_from, encode
from harness.model import Description, DeviceHistory, Feature, Field, Marker, Subsection
from harness.walk import Visitor, Walk

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
