"""The oracle's shortcut where the source and the destination read the same wire.

When the source description writes, at the stream's version, exactly the fields the
destination reads there, in the same order, under the same names and types (a *same-wire*
pair: :func:`same_wire`, decided once per pair from the two plans), the oracle's two walks
(:mod:`vmcompat.compat.oracle`) stay aligned for every ordinary state, and what they
compute is an overlay: the destination's prior (:func:`~vmcompat.walk.load_base`) with
each wire field taken from the source state. :func:`overlay` computes that in one walk of
the source plan, without tokens.

It answers only where nothing state-dependent can happen, and says so by returning
``None`` otherwise; :func:`~vmcompat.compat.oracle.expect` then runs the full walks,
which stay the one home of every loader rule. ``None`` comes for: a value its type does
not read back as itself (out of range, a bool where an integer goes, a missing field); a
value a load check refuses (``equal``, ``le``); a source subsection the state needs; a
byte 0x05 right after a struct (QEMU's subsection loop looks at it); a buffer of the wrong
length; a struct that is not a dict. ``tests/properties/test_aligned_shortcut.py`` checks
that wherever it answers, it answers what the full walks do.

>>> from vmcompat.dsl import device, uint8, uint16
>>> old = device("d", 1, uint8("a"))
>>> new = device("d", 2, uint8("a"), uint16("b", version=2, default=5), minimum=1)
>>> same_wire(old, new, 1)
True
>>> overlay(old, new, 1, {"a": 7}, None)
{'b': 5, 'a': 7}
>>> overlay(old, new, 1, {"a": 300}, None) is None  # out of range: the full walks decide
True
"""

from __future__ import annotations

from typing import Any

from vmcompat.loadrules import SUBSECTION
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.plan import Run, plan_of
from vmcompat.types import WireType
from vmcompat.walk import NOPRIOR, load_base

_STRUCT, _BUFFER = "struct", "buffer"


class _Fallback(Exception):
    """The state needs the full walks."""


def _wire_steps(desc: Description, version: int) -> list[Run | Field] | None:
    """The plan's steps that reach the wire, or None if one is not a run, a buffer, a
    struct or unused bytes (fields only in the state are skipped: the reader keeps their
    prior, the writer sends nothing)."""
    out: list[Run | Field] = []
    for step in plan_of(desc, version).steps:
        if type(step) is Run:
            out.append(step)
            continue
        f = step.field
        if f.in_state and not f.on_wire:
            continue
        if f.exists is not None or f.pointer or f.varray is not None or f.is_array:
            return None
        if f.in_state and f.type not in (_STRUCT, _BUFFER):
            return None
        out.append(f)  # a struct, a buffer, or unused bytes (VMSTATE_UNUSED)
    return out


def _same(a: Description, va: int, b: Description, vb: int) -> bool:
    sa, sb = _wire_steps(a, va), _wire_steps(b, vb)
    if sa is None or sb is None or len(sa) != len(sb):
        return False
    for x, y in zip(sa, sb):
        if type(x) is Run or type(y) is Run:
            if type(x) is not type(y) or x.layout != y.layout:  # type: ignore[union-attr]
                return False
            continue
        assert isinstance(x, Field) and isinstance(y, Field)
        if x.in_state != y.in_state:
            return False
        if not x.in_state:  # unused bytes: the reader skips what the writer zeroes
            if x.size != y.size:
                return False
            continue
        if x.name != y.name or x.type != y.type:
            return False
        if x.type == _BUFFER:
            if x.size != y.size:
                return False
        else:
            assert x.struct is not None and y.struct is not None
            if not _same(x.struct, x.struct.version_id, y.struct, y.struct.version_id):
                return False
    return True


def same_wire(src: Description, dst: Description, version: int) -> bool:
    """Whether ``src`` writes, at ``version``, exactly what ``dst`` reads there (cached on
    ``dst``, keyed by the source's identity)."""
    key = ("same_wire", id(src), version)
    hit = dst._cache.get(key)
    if hit is None or hit[0] is not src:
        hit = dst._cache[key] = (src, _same(src, version, dst, version))
    return hit[1]


def overlay(src: Description, dst: Description, version: int, state: Any, prior: Any
            ) -> dict[str, Any] | None:
    """What the full walks load from ``state`` (saved with ``src``) into ``dst`` over
    ``prior``, NOPRIOR marks included, for a same-wire pair; None where the full walks
    must decide (see the module doc)."""
    if type(state) is not dict:
        return None
    after = [False]  # a struct just ended: the next byte must not be 0x05
    try:
        return _struct(src, version, dst, version, state, prior, after)
    except _Fallback:
        return None


def _struct(a: Description, va: int, b: Description, vb: int, state: dict[str, Any],
            prior: Any, after: list[bool]) -> dict[str, Any]:
    out = load_base(b, prior)
    src_steps = _wire_steps(a, va)
    dst_steps = _wire_steps(b, vb)
    assert src_steps is not None and dst_steps is not None
    for x, y in zip(src_steps, dst_steps):
        if type(x) is Run:
            _run(x, y, state, out, after)  # type: ignore[arg-type]
            continue
        assert isinstance(x, Field) and isinstance(y, Field)
        if not x.in_state:  # zeros: never a subsection's 0x05
            if x.size:
                after[0] = False
            continue
        name = x.name
        v = state.get(name)
        if x.type == _BUFFER:
            if type(v) is not bytes or len(v) != x.size:
                raise _Fallback
            if after[0] and v:
                if v[0] == SUBSECTION:
                    raise _Fallback
                after[0] = False
            out[name] = v
        else:
            if type(v) is not dict:
                raise _Fallback
            assert x.struct is not None and y.struct is not None
            out[name] = _struct(x.struct, x.struct.version_id, y.struct, y.struct.version_id,
                                v, out.get(name, NOPRIOR), after)
    for sub in a.subsections:
        try:
            needed = sub.is_needed(state)
        except Exception:  # the full walks meet it too, in their own order
            raise _Fallback from None
        if needed:
            raise _Fallback
    held = out.get(SUBSECTIONS_KEY, NOPRIOR)
    if isinstance(held, dict) and held:
        out[SUBSECTIONS_KEY] = dict(held)
    after[0] = True
    return out


def _first_byte(t: WireType, v: int) -> int:
    return (v >> (8 * (t.size - 1))) & 0xFF


def _value(t: WireType, v: Any, local: Any) -> Any:
    """``v`` as the destination reads it back, or _Fallback."""
    if t.kind == "bool":
        if type(v) is not bool:
            raise _Fallback
    elif type(v) is not int or not t.lo <= v <= t.hi:
        raise _Fallback
    if t.check is not None:
        if local is None or local is NOPRIOR:
            local = None
        if t.refusal(v, local) is not None:
            raise _Fallback
    return v


def _run(x: Run, y: Run, state: dict[str, Any], out: dict[str, Any], after: list[bool]
         ) -> None:
    first = after[0]
    for slot, dslot in zip(x.slots, y.slots):
        name, t = slot.field.name, slot.type
        v = state.get(name)
        if first and slot.count != 0:  # QEMU's subsection loop peeks at its first byte
            e = v if slot.count is None else (v[0] if isinstance(v, (list, tuple)) and v
                                              else None)
            if type(e) is int and _first_byte(t, e) == SUBSECTION:
                raise _Fallback
            first = False
        cur = out.get(name, NOPRIOR)
        default = dslot.field.default
        if slot.count is None:
            out[name] = _value(t, v, cur if cur is not None and cur is not NOPRIOR
                               else default)
            continue
        if not isinstance(v, (list, tuple)) or len(v) < slot.count:
            raise _Fallback
        items = []
        for i in range(slot.count):
            p = cur[i] if isinstance(cur, (list, tuple)) and i < len(cur) else NOPRIOR
            items.append(_value(t, v[i], p if p is not None and p is not NOPRIOR else default))
        out[name] = items
    after[0] = first
