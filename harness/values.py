"""Immutable value classes that cost little to define: ``@immutable`` is a frozen dataclass.

``@immutable`` (or ``@immutable(slots=True)``) makes the same class ``@dataclass(frozen=True)``
makes: the same fields, ``__init__`` (defaults, ``default_factory``,
``__post_init__``), ``__eq__``, ``__hash__``, ``__repr__``, ``__match_args__``,
``FrozenInstanceError`` on assignment, pickling and ``copy``, and it *is* a dataclass
(:func:`dataclasses.fields`, :func:`dataclasses.replace` and ``is_dataclass`` work).

Why: on Python 3.11 ``@dataclass(frozen=True)`` compiles six methods from source for
every class as its module is imported — about a millisecond each on a small machine,
a third of ``vmcompat stream decode``'s start-up. Here those methods are written once,
for every class, and read each class's fields from a table made when it is defined.

>>> @immutable
... class Point:
...     x: int
...     y: int = 0
>>> p = Point(1)
>>> p, p == Point(1, 0), hash(p) == hash(Point(1)), replace(p, y=2)
(Point(x=1, y=0), True, True, Point(x=1, y=2))
>>> p.x = 3
Traceback (most recent call last):
dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, replace
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["immutable", "replace"]

T = TypeVar("T", bound=type)


class _Spec:
    """What the shared methods need to know about one class's fields."""

    __slots__ = ("init", "names", "compare", "hash", "repr", "post_init")

    init: tuple[tuple[str, Any, Any], ...]
    compare: Callable[[Any], tuple[Any, ...]]
    hash: Callable[[Any], tuple[Any, ...]]

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.init = tuple((f.name, f.default, f.default_factory) for f in fields if f.init)
        self.names = frozenset(name for name, _, _ in self.init)
        self.compare = _getter(tuple(f.name for f in fields if f.compare))
        self.hash = _getter(tuple(f.name for f in fields
                                  if (f.compare if f.hash is None else f.hash)))
        self.repr = tuple(f.name for f in fields if f.repr)
        self.post_init = hasattr(cls, "__post_init__")


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of attributes ``names`` of an object (what a dataclass compares)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _spec(obj: Any) -> _Spec:
    return type(obj)._value_spec  # type: ignore[no-any-return]


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    spec = _spec(self)
    init, put = spec.init, object.__setattr__
    if len(args) > len(init):
        raise TypeError(f"{type(self).__qualname__}() takes {len(init)} positional arguments "
                        f"but {len(args)} were given")
    for (name, _, _), v in zip(init, args):
        put(self, name, v)
    if kwargs and not kwargs.keys() <= spec.names:
        raise TypeError(f"{type(self).__qualname__}() got an unexpected keyword argument "
                        f"{min(kwargs.keys() - spec.names)!r}")
    for name, default, factory in init[len(args):] if args else init:
        if name in kwargs:
            put(self, name, kwargs.pop(name))
        elif default is not MISSING:
            put(self, name, default)
        elif factory is not MISSING:
            put(self, name, factory())
        else:
            raise TypeError(f"{type(self).__qualname__}() missing required argument {name!r}")
    if kwargs:  # left over: named again after their positional value
        raise TypeError(f"{type(self).__qualname__}() got multiple values for argument "
                        f"{min(kwargs)!r}")
    if spec.post_init:
        self.__post_init__()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = _spec(self).compare
    return key(self) == key(other)


def _hash(self: Any) -> int:
    return hash(_spec(self).hash(self))


def _repr(self: Any) -> str:
    return (f"{type(self).__qualname__}("
            + ", ".join(f"{n}={getattr(self, n)!r}" for n in _spec(self).repr) + ")")


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in dataclasses.fields(self))


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for f, v in zip(dataclasses.fields(self), state):
        object.__setattr__(self, f.name, v)


#: the methods ``@immutable`` gives a class that does not define its own
_METHODS: dict[str, Callable[..., Any]] = {"__init__": _init, "__repr__": _repr, "__eq__": _eq}


@overload
def immutable(cls: T, /) -> T: ...
@overload
def immutable(*, slots: bool = ...) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, eq_default=True)
def immutable(cls: Any = None, /, *, slots: bool = False) -> Any:
    """A frozen dataclass (``slots=True``: with ``__slots__``), defined cheaply."""

    def make(c: type) -> type:
        for name in ("__setattr__", "__delattr__"):
            if name in c.__dict__:
                raise TypeError(f"cannot overwrite attribute {name} in class {c.__name__}")
        for name, fn in _METHODS.items():
            if name not in c.__dict__:
                setattr(c, name, fn)
        own_hash = c.__dict__.get("__hash__", MISSING)
        if own_hash is MISSING or (own_hash is None and "__eq__" in c.__dict__):
            c.__hash__ = _hash  # type: ignore[assignment]  # (an own __eq__ left it None)
        c.__setattr__ = _setattr  # type: ignore[assignment]
        c.__delattr__ = _delattr  # type: ignore[assignment]
        if slots:
            c.__getstate__ = _getstate  # type: ignore[attr-defined]
            c.__setstate__ = _setstate  # type: ignore[attr-defined]
        c = dataclasses.dataclass(c, init=False, repr=False, eq=False, slots=slots)
        type.__setattr__(c, "_value_spec", _Spec(c))
        return c

    return make if cls is None else make(cls)
