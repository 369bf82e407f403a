"""Wire formats: one module each, registered in :data:`FORMATS`.

A :class:`Format` pairs whole-payload ``encode``/``decode`` functions built on
the format's writer/reader visitors. ``--wire``, the tests and the docs read
:data:`FORMATS`; adding a format is adding a module here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from vmcompat.model import Description


@dataclass(frozen=True)
class Format:
    """``decode(desc, data, version, into)`` raises LoadError on a refused load."""

    name: str
    encode: Callable[[Description, Any], bytes]
    decode: Callable[[Description, bytes, int, Any], Any]
    self_describing: bool = False
    doc: str = ""


_REGISTRY: dict[str, Format] = {}
FORMATS: Mapping[str, Format] = MappingProxyType(_REGISTRY)


def register(fmt: Format) -> Format:
    _REGISTRY[fmt.name] = fmt
    return fmt


#: format modules; each calls :func:`register` at import
MODULES = ("legacy", "ber", "jsonwire")

for _m in MODULES:
    importlib.import_module(f"vmcompat.formats.{_m}")
