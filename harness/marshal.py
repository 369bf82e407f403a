"""Versioned marshal functions: typed loaders for streams older than the minimum.

QEMU once kept old streams loadable with an untyped ``load_state_old``
callback. Seed 004 proposes a *versioned marshal function* instead: the old
wire layout is itself a description, and a registered pure function turns
the state read with it into the current state. A description names them in
``marshal`` (old version -> name).

>>> sorted(MARSHALS)  # doctest: +SKIP
['i440fx-v2']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from vmcompat.errors import InputError
from vmcompat.model import Description
from vmcompat.values import immutable


@immutable
class Marshal:
    """``layout`` reads the old stream; ``convert(old_state, prior)`` gives the new state."""

    name: str
    layout: Description
    convert: Callable[[dict[str, Any], Any], dict[str, Any]]
    doc: str = ""


_REGISTRY: dict[str, Marshal] = {}
MARSHALS: Mapping[str, Marshal] = MappingProxyType(_REGISTRY)


def register(m: Marshal) -> Marshal:
    if m.name in _REGISTRY and _REGISTRY[m.name] is not m:
        raise InputError(f"marshal {m.name!r} registered twice")
    _REGISTRY[m.name] = m
    return m

