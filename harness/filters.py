"""Migration filters: registered tree transforms between device types/versions.

A :class:`Filter` turns a decoded state of one device (type, versions) into
the state a destination device expects (rename a device, rename/move/split
fields, ...). :func:`chain` finds the transform for a (source, destination)
pair; ``vmcompat fuzz`` and the matrix apply it between save and load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from harness.model import Description

State = dict[str, Any]


@dataclass(frozen=True)
class Filter:
    """``apply(state) -> state`` from ``source`` (device name) to ``destination``."""

    name: str
    source: str
    destination: str
    apply: Callable[[State], State]
    source_versions: tuple[int, ...] | None = None  # None: every version
    doc: str = ""

    def matches(self, src: Description, dst: Description) -> bool:
        return (src.name == self.source and dst.name == self.destination
                and (self.source_versions is None or src.version_id in self.source_versions))


_REGISTRY: dict[str, Filter] = {}
FILTERS: Mapping[str, Filter] = MappingProxyType(_REGISTRY)


def register(f: Filter) -> Filter:
    _REGISTRY[f.name] = f
    return f


def chain(src: Description, dst: Description) -> Callable[[State], State] | None:
    """The transform from ``src``'s state to ``dst``'s, or None when no filter applies."""
    found = [f for f in _REGISTRY.values() if f.matches(src, dst)]
    if not found:
        return None
    if len(found) == 1:
        return found[0].apply

    def run(state: State) -> State:
        for f in found:
            state = f.apply(state)
        return state

    return run
