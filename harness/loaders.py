"""The registry of description file kinds that :mod:`vmcompat.sources` tries in order.

A leaf module: :mod:`vmcompat.dumps` and :mod:`vmcompat.qemu.bundle` register their loaders
here without importing the resolver that uses them (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vmcompat.model import Description
from vmcompat.values import immutable


@immutable
class Loader:
    """A kind of description file: ``detect(obj)`` says whether ``load(obj, file)`` reads it."""

    name: str
    detect: Callable[[Any], bool]
    load: Callable[[Any, str], dict[str, Description]]


#: file kinds, tried in order; other modules register theirs (dumps, vmdescs).
LOADERS: list[Loader] = []


def register_loader(loader: Loader) -> Loader:
    LOADERS[:] = [x for x in LOADERS if x.name != loader.name] + [loader]
    return loader
