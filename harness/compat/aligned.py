"""The oracle's shortcut where the source and the destination read the same wire.

When the source description writes, at the stream's version, exactly the fields the
destination reads there, in the same order, under the same names and types (a *same-wire*
pair: :func:`same_wire`; runs, buffers, unused bytes, structs, struct arrays, and
subsections the destination loads as they are), the oracle's two walks
(:mod:`vmcompat.compat.oracle`) stay aligned for every ordinary state, and what they
compute is an overlay: the destination's prior (:func:`~vmcompat.walk.load_base`) with
each wire field taken from the source state. The pair's two plans compile, once, into a
flat list of steps (:func:`compiled`, cached on the destination), and :func:`overlay` runs
that list over a state, without tokens or recursion.

It answers only where nothing state-dependent can happen, and says so by returning
``None`` otherwise; :func:`~vmcompat.compat.oracle.expect` then runs the full walks,
which stay the one home of every loader rule. ``None`` comes for: a value its type does
not read back as itself (out of range, a bool where an integer goes, a missing field); a
value a load check refuses (``equal``, ``le``); a subsection the state needs that the
destination lacks, refuses (too new) or whose header another struct's loop could claim; a
byte 0x05 right after a struct (QEMU's subsection loop looks at it); a buffer of the wrong
length; a struct that is not a dict; an element count that is negative or longer than its
list. ``tests/properties/test_plan_agreement.py`` checks that wherever it answers, it
answers what the full walks do.

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

from vmcompat.errors import LoadError
from vmcompat.loadrules import SUBSECTION, check_version, claims_subsection
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.plan import Run, plan_of
from vmcompat.types import WireType
from vmcompat.values import immutable
from vmcompat.walk import NOPRIOR, load_base

_STRUCT, _BUFFER = "struct", "buffer"


class _Fallback(Exception):
    """The state needs the full walks."""


@immutable(slots=True)
class OverlayStep:
    """One step of a same-wire overlay. ``op`` is one of:

    - run: ``src`` and ``dst`` are runs of one layout;
    - buffer: ``name``, ``size`` bytes; unused: ``size`` zero bytes;
    - enter: the struct field ``name``, ``dst`` its destination description; leave: a
      struct ends;
    - sub: the source subsection ``src``; when the state needs it, its steps follow, up to
      index ``at``, ``dst`` the destination's description of it (no ``dst``: the walks
      decide);
    - array: the struct array ``name`` of ``size`` elements, or of as many as the field
      ``src`` counts, ``dst`` the item's destination description; the item's steps follow,
      then array_end (``at``: the index of its array step), up to index ``at``."""

    op: str
    name: str = ""
    size: int = 0
    at: int = 0
    src: Any = None
    dst: Any = None


RUN, BUFFER, UNUSED, ENTER, LEAVE, ARRAY, ARRAY_END, SUB = (
    "run", "buffer", "unused", "enter", "leave", "array", "array_end", "sub")


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
        if f.exists is not None or f.pointer:
            return None
        if f.is_array and (not f.in_state or f.type != _STRUCT):
            return None
        if f.in_state and f.type not in (_STRUCT, _BUFFER):
            return None
        out.append(f)  # a struct (or an array of them), a buffer, or unused bytes
    return out


def _pair(a: Description, va: int, b: Description, vb: int, steps: list[OverlayStep]) -> bool:
    """Append the overlay steps of ``a`` at ``va`` read as ``b`` at ``vb``; False where
    the two do not write and read the same wire."""
    sa, sb = _wire_steps(a, va), _wire_steps(b, vb)
    if sa is None or sb is None or len(sa) != len(sb):
        return False
    for x, y in zip(sa, sb):
        if type(x) is Run or type(y) is Run:
            if type(x) is not type(y) or x.layout != y.layout:  # type: ignore[union-attr]
                return False
            steps.append(OverlayStep(RUN, src=x, dst=y))
            continue
        assert isinstance(x, Field) and isinstance(y, Field)
        if x.in_state != y.in_state:
            return False
        if not x.in_state:  # unused bytes: the reader skips what the writer zeroes
            if x.size != y.size:
                return False
            steps.append(OverlayStep(UNUSED, size=x.size or 0))
            continue
        if x.name != y.name or x.type != y.type:
            return False
        if x.type == _BUFFER:
            if x.size != y.size:
                return False
            steps.append(OverlayStep(BUFFER, x.name, x.size or 0))
            continue
        assert x.struct is not None and y.struct is not None
        if x.array_len != y.array_len or x.varray != y.varray:
            return False
        if x.is_array:  # the item's steps, run once per element, then ARRAY_END
            start = len(steps)
            steps.append(OverlayStep(ARRAY))  # until its end is known
            if not _pair(x.struct, x.struct.version_id, y.struct, y.struct.version_id, steps):
                return False
            steps.append(OverlayStep(ARRAY_END, x.name, at=start))
            steps[start] = OverlayStep(ARRAY, x.name, x.array_len or 0, src=x.varray,
                                       dst=y.struct, at=len(steps))
            continue
        steps.append(OverlayStep(ENTER, x.name, dst=y.struct))
        if not _pair(x.struct, x.struct.version_id, y.struct, y.struct.version_id, steps):
            return False
    for sub in a.subsections:  # each sent when the state needs it: SUB, its steps
        at = len(steps)
        steps.append(OverlayStep(SUB, sub.name, src=sub))
        v = sub.description.version_id
        mine = b.subsection(sub.name)
        if (mine is None or not claims_subsection(b.name.encode(), sub.name.encode())
                or not _loads(mine.description, v)
                or not _pair(sub.description, v, mine.description, v, steps)):
            del steps[at + 1:]  # the destination refuses or misreads it: the walks decide
            steps[at] = OverlayStep(SUB, sub.name, src=sub)
            continue
        steps[at] = OverlayStep(SUB, sub.name, src=sub, dst=mine.description, at=len(steps))
    steps.append(OverlayStep(LEAVE))
    return True


def _loads(desc: Description, version: int) -> bool:
    """Whether ``desc`` loads a subsection of ``version`` as it is."""
    try:
        return check_version(desc, version, marshal=False) is None
    except LoadError:
        return False


def compiled(src: Description, dst: Description, version: int) -> tuple[OverlayStep, ...] | None:
    """The overlay steps of ``src`` read as ``dst`` at ``version``, or None where they do
    not write and read the same wire (cached on ``dst``, keyed by the source's identity)."""
    key = ("same_wire", id(src), version)
    hit = dst._cache.get(key)
    if hit is None or hit[0] is not src:
        steps: list[OverlayStep] = []
        hit = dst._cache[key] = (src, _unclaimed(dst, steps) if _pair(src, version, dst,
                                                                       version, steps)
                                 else None)
    return hit[1]


def _unclaimed(dst: Description, steps: list[OverlayStep]) -> tuple[OverlayStep, ...]:
    """``steps``, where a subsection header another struct's loop could also claim (its
    name starts with that struct's name too) is left to the walks."""
    descs = [dst, *(s.dst for s in steps if s.op in (ENTER, ARRAY, SUB) and s.dst)]
    for k, s in enumerate(steps):
        if s.op == SUB and s.dst is not None:
            name = s.name.encode()
            if sum(claims_subsection(d.name.encode(), name) for d in descs) != 1:
                steps[k] = OverlayStep(SUB, s.name, src=s.src, at=s.at)
    return tuple(steps)


def same_wire(src: Description, dst: Description, version: int) -> bool:
    """Whether ``src`` writes, at ``version``, exactly what ``dst`` reads there."""
    return compiled(src, dst, version) is not None


def overlay(src: Description, dst: Description, version: int, state: Any, prior: Any
            ) -> dict[str, Any] | None:
    """What the full walks load from ``state`` (saved with ``src``) into ``dst`` over
    ``prior``, NOPRIOR marks included, for a same-wire pair; None where the full walks
    must decide (see the module doc)."""
    steps = compiled(src, dst, version)
    if steps is None or type(state) is not dict:
        return None
    try:
        return _overlay(steps, state, load_base(dst, prior))
    except _Fallback:
        return None


class _Items:
    """An array being overlaid: its source items, its destination's prior, what is loaded."""

    __slots__ = ("source", "prior", "loaded", "n", "state", "out")

    def __init__(self, source: Any, prior: Any, n: int, state: dict[str, Any],
                 out: dict[str, Any]) -> None:
        self.source, self.prior, self.n = source, prior, n
        self.loaded: list[dict[str, Any]] = []
        self.state, self.out = state, out  # the enclosing struct's

    def item(self, step: OverlayStep) -> tuple[dict[str, Any], dict[str, Any]]:
        """The next item's source state and where its load starts."""
        i = len(self.loaded)
        v = self.source[i]
        if type(v) is not dict:
            raise _Fallback
        p = self.prior
        return v, load_base(step.dst, p[i] if isinstance(p, (list, tuple)) and i < len(p)
                            else NOPRIOR)


def _count(step: OverlayStep, out: dict[str, Any]) -> int:
    """How many elements the array has: fixed, or the count the load just read."""
    if step.src is None:
        return step.size
    n = out.get(step.src)
    if type(n) is not int or n < 0:  # the walks refuse (or realign): theirs to say
        raise _Fallback
    return n


def _overlay(steps: tuple[OverlayStep, ...], state: dict[str, Any], out: dict[str, Any]
             ) -> dict[str, Any]:
    #: open structs: (name, source state, loaded struct, where the loaded item goes)
    stack: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]] | _Items] = []
    after = False  # a struct just ended: QEMU's subsection loop reads the next byte
    pc, end = 0, len(steps)
    while pc < end:
        step = steps[pc]
        pc += 1
        op = step.op
        if op == RUN:
            after = _run(step.src, step.dst, state, out, after)
        elif op == BUFFER:
            v = state.get(step.name)
            if type(v) is not bytes or len(v) != step.size:
                raise _Fallback
            if after and v:
                if v[0] == SUBSECTION:
                    raise _Fallback
                after = False
            out[step.name] = v
        elif op == UNUSED:  # zeros: never a subsection's 0x05
            if step.size:
                after = False
        elif op == ENTER:
            inner = state.get(step.name)
            if type(inner) is not dict:
                raise _Fallback
            stack.append((step.name, state, out, out))
            state, out = inner, load_base(step.dst, out.get(step.name, NOPRIOR))
        elif op == SUB:
            try:
                needed = step.src.is_needed(state)
            except Exception:  # the full walks meet it too, in their own order
                raise _Fallback from None
            if not needed:
                if step.at:
                    pc = step.at  # past its steps
                continue
            sent = state.get(SUBSECTIONS_KEY)
            inner = sent.get(step.name) if isinstance(sent, dict) else None
            if step.dst is None or type(inner) is not dict:
                raise _Fallback
            held = out.get(SUBSECTIONS_KEY, NOPRIOR)
            subs = out[SUBSECTIONS_KEY] = dict(held) if isinstance(held, dict) else {}
            stack.append((step.name, state, out, subs))
            state, out = inner, load_base(step.dst, subs.get(step.name))
            after = False  # the header is QEMU's subsection loop's own
        elif op == LEAVE:
            after = True
            if stack:
                top = stack[-1]
                if type(top) is _Items:
                    top.loaded.append(out)
                else:
                    stack.pop()
                    name, state, parent, holder = top  # type: ignore[misc]
                    holder[name], out = out, parent
        elif op == ARRAY:
            source = state.get(step.name)
            n = _count(step, out)
            if not isinstance(source, (list, tuple)) or len(source) < n:
                raise _Fallback
            items = _Items(source, out.get(step.name, NOPRIOR), n, state, out)
            if n == 0:
                out[step.name] = []
                pc = step.at
                continue
            stack.append(items)
            state, out = items.item(step)
        else:  # ARRAY_END
            items = stack[-1]  # type: ignore[assignment]
            if len(items.loaded) < items.n:
                state, out = items.item(steps[step.at])
                pc = step.at + 1
                continue
            stack.pop()
            state, out = items.state, items.out
            out[step.name] = items.loaded
    return out


def _first_byte(t: WireType, v: int) -> int:
    return (v >> (8 * (t.size - 1))) & 0xFF


def _value(t: WireType, v: Any, local: Any) -> Any:
    """``v`` as the destination reads it back (a valid value its load check takes), or
    _Fallback."""
    if not t.valid(v) or (t.checked and t.refusal(v, local) is not None):
        raise _Fallback
    return v


def _run(x: Run, y: Run, state: dict[str, Any], out: dict[str, Any], first: bool) -> bool:
    """Take a run's values into ``out``; whether a struct's end still waits for a byte
    (``first``: one did when the run began)."""
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
    return first
