"""Immutable value classes that cost little to define: ``@immutable`` is a frozen dataclass.

``@immutable`` (or ``@immutable(slots=True)``) makes the same class ``@dataclass(frozen=True)``
makes: the same fields, ``__init__`` (defaults, ``default_factory``,
``__post_init__``), ``__eq__``, ``__hash__``, ``__repr__``, ``__match_args__``,
``FrozenInstanceError`` on assignment, pickling and ``copy``, and it *is* a dataclass
(:func:`dataclasses.fields`, :func:`dataclasses.replace` and ``is_dataclass`` work).

Why: on Python 3.11 ``@dataclass(frozen=True)`` compiles six methods from source for
every class as its module is imported — about a millisecond each on a small machine,
a third of ``vmcompat stream decode``'s start-up. Here ``__eq__``, ``__hash__``,
``__repr__`` and the frozen ``__setattr__`` are written once for every class (they read
its fields from a table made when it is defined), and ``__init__``, which must be fast,
is compiled for a class when its first instance is made: a command pays only for the
classes it uses.

>>> @immutable
... class Point:
...     x: int
...     y: int = 0
>>> p = Point(1)
>>> p, p == Point(1, 0), hash(p) == hash(Point(1)), dataclasses.replace(p, y=2)
(Point(x=1, y=0), True, True, Point(x=1, y=2))
>>> p.x = 3
Traceback (most recent call last):
dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["immutable"]

T = TypeVar("T", bound=type)


class _Spec:
    """What the shared methods need to know about one class's fields."""

    __slots__ = ("init", "compare", "hash", "repr", "post_init")

    init: tuple[tuple[str, Any, Any], ...]
    compare: Callable[[Any], tuple[Any, ...]]
    hash: Callable[[Any], tuple[Any, ...]]

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.init = tuple((f.name, f.default, f.default_factory) for f in fields if f.init)
        if any(f.kw_only is True for f in fields):
            raise TypeError(f"{cls.__name__}: @immutable takes no kw_only fields "
                            "(use @dataclass(frozen=True))")
        defaulted = False
        for f in fields:
            if not f.init:
                continue
            if f.default is not MISSING or f.default_factory is not MISSING:
                defaulted = True
            elif defaulted:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
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


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """The ``__init__`` a class has until its first instance: it compiles the class's own
    (:func:`_compile_init`), puts it in place and runs it."""
    cls = type(self)
    owner = next(c for c in cls.__mro__ if c.__dict__.get("__init__") is _first_init)
    init = _compile_init(owner)
    type.__setattr__(owner, "__init__", init)
    init(self, *args, **kwargs)


def _compile_init(cls: type) -> Callable[..., None]:
    """``__init__`` of a class, as :func:`dataclasses.dataclass` would write it: one
    function compiled when the first instance is made, not when the class is defined."""
    spec: _Spec = cls._value_spec  # type: ignore[attr-defined]
    names = {"__put": object.__setattr__, "__MISSING": MISSING}
    params, body = ["__self"], []
    for i, (name, default, factory) in enumerate(spec.init):
        if default is not MISSING:
            names[f"__d{i}"] = default
            params.append(f"{name}=__d{i}")
        elif factory is not MISSING:
            names[f"__f{i}"] = factory
            params.append(f"{name}=__MISSING")
            body.append(f"  if {name} is __MISSING: {name} = __f{i}()")
        else:
            params.append(name)
        body.append(f"  __put(__self, {name!r}, {name})")
    if spec.post_init:
        body.append("  __self.__post_init__()")
    src = f"def __init__({', '.join(params)}):\n" + "\n".join(body or ["  pass"])
    exec(src, names)  # our own text: field names are identifiers
    fn = names["__init__"]
    fn.__qualname__ = f"{cls.__qualname__}.__init__"
    return fn  # type: ignore[no-any-return]


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
_METHODS: dict[str, Callable[..., Any]] = {
    "__init__": _first_init, "__repr__": _repr, "__eq__": _eq}


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
