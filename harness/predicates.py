"""``exists`` and ``needed`` predicates: small immutable trees, evaluated on a state.

JSON forms: ``true``, ``false``, ``{"field": NAME, "op": "eq"|"ne"|
"nonzero"|"zero", "value"?: V}``, ``{"all": [...]}``, ``{"any": [...]}``,
``{"not": P}``.

>>> p = parse({"field": "mode", "op": "eq", "value": 2})
>>> p({"mode": 2}), p({"mode": 3}), p.to_json() == {"field": "mode", "op": "eq", "value": 2}
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from vmcompat.errors import InputError
from vmcompat.values import immutable

R = TypeVar("R")


class Predicate:
    """Base of all predicates: callable on a state mapping."""

    def __call__(self, state: Mapping[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple[Predicate, ...]:
        """The sub-predicates, in order (a leaf has none)."""
        return ()

    def json_node(self, parts: list[Any]) -> Any:  # pragma: no cover - abstract
        """This node's JSON form, given its children's."""
        raise NotImplementedError

    def own_reads(self) -> frozenset[str]:
        """The field names this node itself reads (not its children)."""
        return frozenset()

    def to_json(self) -> Any:
        return fold(self, lambda p, parts: p.json_node(parts))

    def reads(self) -> frozenset[str]:
        """Names of the fields this predicate reads."""
        return fold(self, lambda p, parts: p.own_reads().union(*parts))


def fold(p: Predicate, step: Callable[[Predicate, list[R]], R]) -> R:
    """The one traversal of a predicate tree: ``step(node, its children's results)``,
    bottom-up and in order, without recursion (a deep tree cannot exhaust the stack).

    >>> fold(parse({"not": {"all": [True, False]}}), lambda p, rs: 1 + sum(rs))
    4
    """
    out: list[R] = []
    stack: list[tuple[Predicate, bool]] = [(p, False)]
    while stack:
        node, expanded = stack.pop()
        kids = node.children()
        if expanded or not kids:
            n = len(kids)
            results = out[len(out) - n:] if n else []
            del out[len(out) - n:]
            out.append(step(node, results))
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
    return out[0]


@immutable(slots=True)
class Const(Predicate):
    value: bool

    def __call__(self, state: Mapping[str, Any]) -> bool:
        return self.value

    def json_node(self, parts: list[Any]) -> Any:
        return self.value


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "nonzero": lambda a, _b: bool(a),
    "zero": lambda a, _b: not a,
}


@immutable(slots=True)
class Cmp(Predicate):
    field: str
    op: str
    value: Any = None

    def __call__(self, state: Mapping[str, Any]) -> bool:
        return _OPS[self.op](state.get(self.field), self.value)

    def json_node(self, parts: list[Any]) -> Any:
        out: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op in ("eq", "ne"):
            out["value"] = self.value
        return out

    def own_reads(self) -> frozenset[str]:
        return frozenset({self.field})


@immutable(slots=True)
class All(Predicate):
    parts: tuple[Predicate, ...]

    def __call__(self, state: Mapping[str, Any]) -> bool:
        return all(p(state) for p in self.parts)

    def children(self) -> tuple[Predicate, ...]:
        return self.parts

    def json_node(self, parts: list[Any]) -> Any:
        return {"all": parts}


@immutable(slots=True)
class AnyOf(Predicate):
    parts: tuple[Predicate, ...]

    def __call__(self, state: Mapping[str, Any]) -> bool:
        return any(p(state) for p in self.parts)

    def children(self) -> tuple[Predicate, ...]:
        return self.parts

    def json_node(self, parts: list[Any]) -> Any:
        return {"any": parts}


@immutable(slots=True)
class Not(Predicate):
    part: Predicate

    def __call__(self, state: Mapping[str, Any]) -> bool:
        return not self.part(state)

    def children(self) -> tuple[Predicate, ...]:
        return (self.part,)

    def json_node(self, parts: list[Any]) -> Any:
        return {"not": parts[0]}


TRUE = Const(True)
FALSE = Const(False)


def parse(obj: Any) -> Predicate:
    """Read a predicate from its JSON form; raise :class:`InputError` if malformed."""
    if isinstance(obj, Predicate):
        return obj
    if isinstance(obj, bool):
        return Const(obj)
    if isinstance(obj, dict):
        keys = set(obj)
        if keys == {"all"} and isinstance(obj["all"], list):
            return All(tuple(parse(p) for p in obj["all"]))
        if keys == {"any"} and isinstance(obj["any"], list):
            return AnyOf(tuple(parse(p) for p in obj["any"]))
        if keys == {"not"}:
            return Not(parse(obj["not"]))
        if "field" in obj and obj.get("op") in _OPS and keys <= {"field", "op", "value"}:
            if not isinstance(obj["field"], str):
                raise InputError(f"predicate field must be a string, got {obj['field']!r}")
            return Cmp(obj["field"], obj["op"], obj.get("value"))
    raise InputError(f"malformed predicate {obj!r}")


def field_eq(name: str, value: Any) -> Cmp:
    return Cmp(name, "eq", value)


def field_nonzero(name: str) -> Cmp:
    return Cmp(name, "nonzero")
