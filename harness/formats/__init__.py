"""Wire formats: one module each, registered in :data:`FORMATS`.

A :class:`Format` pairs whole-payload ``encode``/``decode`` functions built on
the format's writer/reader visitors. ``--wire``, the tests and the docs read
:data:`FORMATS`; adding a format is adding a module here (and to :data:`MODULES`).
The format modules are imported when :data:`FORMATS` is first read, so a command that
uses one wire (``stream decode``: legacy) does not import the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from vmcompat.model import Description
from vmcompat.values import immutable


@immutable
class Format:
    """``decode(desc, data, version, into)`` raises LoadError on a refused load."""

    name: str
    encode: Callable[[Description, Any], bytes]
    decode: Callable[[Description, bytes, int, Any], Any]
    self_describing: bool = False
    doc: str = ""


#: format modules; each calls :func:`register` at import
MODULES = ("legacy", "ber", "jsonwire")

_REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    _REGISTRY[fmt.name] = fmt
    return fmt


class _Formats(Mapping[str, Format]):
    """Every registered format, by name (read-only); reading it imports the modules."""

    _loaded = False

    def _formats(self) -> dict[str, Format]:
        if not self._loaded:
            for m in MODULES:
                importlib.import_module(f"vmcompat.formats.{m}")
            self._loaded = True
        return _REGISTRY

    def __getitem__(self, name: str) -> Format:
        return self._formats()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats())

    def __len__(self) -> int:
        return len(self._formats())

    def __repr__(self) -> str:
        return f"FORMATS({self._formats()!r})"


FORMATS: Mapping[str, Format] = _Formats()
