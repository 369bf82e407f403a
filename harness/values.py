"""Immutable value classes that cost little to define: ``@immutable`` is a frozen dataclass.

``@immutable`` (or ``@immutable(slots=True)``) makes the same class ``@dataclass(frozen=True)``
makes: the same fields, ``__init__`` (defaults, ``default_factory``,
``__post_init__``), ``__eq__``, ``__hash__``, ``__repr__``, ``__match_args__``,
``FrozenInstanceError`` on assignment, pickling and ``copy``, and it *is* a dataclass
(:func:`dataclasses.fields`, :func:`dataclasses.replace` and ``is_dataclass`` work).

Why: on Python 3.11 ``@dataclass(frozen=True)`` compiles six methods from source for
every class as its module is imported — about a millisecond each on a small machine,
a third of ``vmcompat stream decode``'s start-up — and :mod:`dataclasses` itself
imports :mod:`inspect` (with ``ast``, ``dis`` and ``tokenize``), several milliseconds
more. Here ``__eq__``, ``__hash__``, ``__repr__`` and the frozen ``__setattr__`` are
written once for every class (they read its fields from a table made when it is
defined); ``__init__``, which must be fast, is compiled for a class when its first
instance is made; and the class's :mod:`dataclasses` fields
(``__dataclass_fields__``) are made the first time something asks for them. So a
command pays only for the classes it uses, and none imports :mod:`dataclasses` unless
it uses it. Give such fields options with :func:`field` (``dataclasses.field`` works
too) and copy values with :func:`replace`, both as :mod:`dataclasses` has them.

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

import sys
from collections.abc import Callable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["field", "immutable", "replace"]

T = TypeVar("T", bound=type)
V = TypeVar("V")


class _Missing:
    """No default (what :data:`dataclasses.MISSING` is to :mod:`dataclasses`)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _Field:
    """One field's options, as :func:`dataclasses.field` takes them."""

    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "hash",
                 "compare", "metadata")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING,
                 init: bool = True, repr: bool = True, hash: bool | None = None,
                 compare: bool = True, metadata: Mapping[Any, Any] | None = None) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name, self.type = "", ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.hash, self.compare = init, repr, hash, compare
        self.metadata = MappingProxyType(dict(metadata or {}))


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING,
          init: bool = True, repr: bool = True, hash: bool | None = None,
          compare: bool = True, metadata: Mapping[Any, Any] | None = None) -> Any:
    """:func:`dataclasses.field` for an ``@immutable`` class (no ``kw_only``)."""
    return _Field(default, default_factory, init, repr, hash, compare, metadata)


def _from_dataclasses(f: Any) -> _Field:
    """Options given with :func:`dataclasses.field` (that module is loaded, then)."""
    import dataclasses

    if f.kw_only is True:
        raise TypeError("@immutable takes no kw_only fields (use @dataclass(frozen=True))")
    return _Field(*(MISSING if v is dataclasses.MISSING else v
                    for v in (f.default, f.default_factory)),
                  f.init, f.repr, f.hash, f.compare, f.metadata)


def _is_dataclasses_field(value: Any) -> bool:
    dc = sys.modules.get("dataclasses")  # not loaded: nothing can be one of its fields
    return dc is not None and isinstance(value, dc.Field)


def _class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def _fields_of(cls: type) -> dict[str, _Field]:
    """The fields of ``cls`` in dataclass order (its bases' first), its class attributes
    set as :func:`dataclasses.dataclass` leaves them."""
    fields: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        spec = base.__dict__.get("_value_spec")
        if spec is not None:
            fields.update(spec.fields)
        elif "__dataclass_fields__" in base.__dict__:
            import dataclasses

            for f in dataclasses.fields(base):
                fields[f.name] = _named(_from_dataclasses(f), f.name, f.type)
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect is what we avoid
    for name, annotation in own.items():
        if _class_var(annotation):
            continue
        if "InitVar" in str(annotation) or "KW_ONLY" in str(annotation):
            raise TypeError(f"{cls.__name__}.{name}: @immutable takes no InitVar or KW_ONLY "
                            "(use @dataclass(frozen=True))")
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, _Field):
            f = value
        elif _is_dataclasses_field(value):
            f = _from_dataclasses(value)
        else:
            f = _Field(default=value)
        if f.default is not MISSING and type(f.default).__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not "
                             "allowed: use default_factory")
        if f.default is MISSING:
            if name in cls.__dict__:
                delattr(cls, name)
        elif value is not f.default:
            setattr(cls, name, f.default)
        fields[name] = _named(f, name, annotation)
    return fields


def _named(f: _Field, name: str, annotation: Any) -> _Field:
    f.name, f.type = name, annotation
    return f


class _Spec:
    """What the shared methods need to know about one class's fields."""

    __slots__ = ("fields", "init", "compare", "hash", "repr", "names", "post_init")

    fields: dict[str, _Field]
    init: tuple[tuple[str, Any, Any], ...]
    compare: Callable[[Any], tuple[Any, ...]]
    hash: Callable[[Any], tuple[Any, ...]]

    def __init__(self, cls: type, fields: dict[str, _Field]) -> None:
        self.fields = fields
        fs = tuple(fields.values())
        self.init = tuple((f.name, f.default, f.default_factory) for f in fs if f.init)
        defaulted = False
        for f in fs:
            if not f.init:
                continue
            if f.default is not MISSING or f.default_factory is not MISSING:
                defaulted = True
            elif defaulted:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        self.compare = _getter(tuple(f.name for f in fs if f.compare))
        self.hash = _getter(tuple(f.name for f in fs
                                  if (f.compare if f.hash is None else f.hash)))
        self.repr = tuple(f.name for f in fs if f.repr)
        self.names = tuple(fields)
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
    from dataclasses import FrozenInstanceError  # the error dataclasses raise

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, n) for n in _spec(self).names)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for n, v in zip(_spec(self).names, state):
        object.__setattr__(self, n, v)


class _DataclassFields:
    """``__dataclass_fields__`` (and ``__dataclass_params__``), made when first asked for:
    :mod:`dataclasses` declares a class with the same fields, and the class takes its."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: Any, cls: type) -> Any:
        import dataclasses

        spec: _Spec = cls._value_spec  # type: ignore[attr-defined]
        twin: dict[str, Any] = {"__annotations__": {n: f.type for n, f in spec.fields.items()}}
        for n, f in spec.fields.items():
            twin[n] = dataclasses.field(
                **({} if f.default is MISSING else {"default": f.default}),
                **({} if f.default_factory is MISSING else {
                    "default_factory": f.default_factory}),
                init=f.init, repr=f.repr, hash=f.hash, compare=f.compare, metadata=f.metadata)
        made = dataclasses.dataclass(type(cls.__name__, (), twin), frozen=True, init=False,
                                     repr=False, eq=False)
        for attr in ("__dataclass_fields__", "__dataclass_params__"):
            type.__setattr__(cls, attr, made.__dict__[attr])
        return cls.__dict__[self.attr]


def replace(obj: V, /, **changes: Any) -> V:
    """:func:`dataclasses.replace`: a copy of a value with ``changes`` (an ``@immutable``
    one without importing :mod:`dataclasses`)."""
    spec = getattr(type(obj), "_value_spec", None)
    if spec is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for f in spec.fields.values():
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be "
                                 "specified with replace()")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


#: the methods ``@immutable`` gives a class that does not define its own
_METHODS: dict[str, Callable[..., Any]] = {
    "__init__": _first_init, "__repr__": _repr, "__eq__": _eq}


def _with_slots(c: type, names: tuple[str, ...]) -> type:
    """``c`` made again with ``__slots__`` for the fields its bases have no slot for."""
    inherited = {s for b in c.__mro__[1:] for s in b.__dict__.get("__slots__", ())}
    body = {k: v for k, v in c.__dict__.items()
            if k not in names and k not in ("__dict__", "__weakref__")}
    body["__slots__"] = tuple(n for n in names if n not in inherited)
    made = type(c)(c.__name__, c.__bases__, body)
    made.__qualname__ = c.__qualname__
    return made


@overload
def immutable(cls: T, /) -> T: ...
@overload
def immutable(*, slots: bool = ...) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, eq_default=True, field_specifiers=(field,))
def immutable(cls: Any = None, /, *, slots: bool = False) -> Any:
    """A frozen dataclass (``slots=True``: with ``__slots__``), defined cheaply."""

    def make(c: type) -> type:
        for name in ("__setattr__", "__delattr__"):
            if name in c.__dict__:
                raise TypeError(f"cannot overwrite attribute {name} in class {c.__name__}")
        fields = _fields_of(c)
        for name, fn in _METHODS.items():
            if name not in c.__dict__:
                setattr(c, name, fn)
        own_hash = c.__dict__.get("__hash__", MISSING)
        if own_hash is MISSING or (own_hash is None and "__eq__" in c.__dict__):
            c.__hash__ = _hash  # type: ignore[assignment]  # (an own __eq__ left it None)
        c.__setattr__ = _setattr  # type: ignore[assignment]
        c.__delattr__ = _delattr  # type: ignore[assignment]
        if "__match_args__" not in c.__dict__:
            c.__match_args__ = tuple(  # type: ignore[attr-defined]
                n for n, f in fields.items() if f.init)
        for attr in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(c, attr, _DataclassFields(attr))
        if slots:
            c.__getstate__ = _getstate  # type: ignore[attr-defined]
            c.__setstate__ = _setstate  # type: ignore[attr-defined]
            c = _with_slots(c, tuple(fields))
        type.__setattr__(c, "_value_spec", _Spec(c, fields))
        return c

    return make if cls is None else make(cls)
