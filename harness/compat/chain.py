"""Migration chains: one device state carried through hops between versions (A → B → C).

A *hop* saves the chain's current state with one version's description and
loads it with another's on one wire, through a :data:`Loader`. The loader
returns the one-hop :class:`~vmcompat.matrix.engine.Outcome` (its verdict
against the oracle, and the loaded state); :func:`engine_hop` is the fuzz
engine's (``check_state`` with the registered filters), and a loader that
drives real QEMU releases can take its place. :class:`ChainRun` is the chain:
:meth:`ChainRun.hop` and :meth:`ChainRun.write` (a guest-like change of a
field the current version holds) are its steps; the Hypothesis state machine
in :mod:`vmcompat.compat.chain_machine` draws them.

Invariants after every hop:

- the hop itself is judged by the oracle: a corrupt or crashing hop makes
  the chain ``corrupt`` (and ends it); a refused hop makes it ``refused``,
  unless it later loses or corrupts data — the migration failed, the guest
  keeps running on the source, and the chain goes on from there;
- **no chain loss**: every field the current version holds equals its value
  after the *direct* hop to the current version, or the difference is a
  :class:`Loss` (field, the hop where it was lost, why).

Which direct hop (the choice for guest changes): **per-field provenance,
decided by effect**. The chain keeps *anchors*: the first state, and the
state right after each guest change (with the state just before it). A
field's reference is the direct hop to the current version from the latest
guest change that moves it — whose direct hop gives the field another value
than the same hop from the state just before the change — and from the first
state when no change does. Two simpler choices fail:

- the direct hop of the state as last changed forgets what earlier hops
  lost: v1 → v2 drops ``x``, the guest writes ``y`` on v2, v2 → v3 — the
  direct hop v2 → v3 has no ``x`` either, so that loss would vanish;
- provenance by field *name* blames renames: a marshal function, a filter or
  a positional rename carries a write of ``timer`` on v2 into
  ``timer_expiry`` on v3, which the first state's direct hop disagrees with.

Guest changes touch only fields nothing else's load depends on (not counts,
not read by an ``exists``/``needed`` predicate, no ``equal``/``le`` check;
:func:`writable`), so a change moves only what derives from that field. A
direct hop that is not compatible (refused) gives no reference: nothing is
compared against it. Fields are compared at the top level of the state and
subsections by name (:func:`items`); the loss names the first differing path.

The direct hop runs on the wire of the chain's latest hop. Off-wire fields
(``immutable``/``derived``) are the device's configuration, the same on every
release of a migration: the chain keeps those of its first state and sends
them with every hop, so a version that lacks one does not reset it.

JSON (a public contract): ``{"device", "path": [versions], "wires": [...],
"verdict", "lost_fields": [{"field", "hop", "reason"}], "direct_verdict",
"counterexample"}``. ``hop`` k is the hop from ``path[k-1]`` to ``path[k]``.

>>> from vmcompat.catalog import history
>>> spec = ChainSpec.of_history(history("wdt-gap"))
>>> run = ChainRun(spec, 0, {"enabled": False, "reload": 0, "counter": 0, "prescaler": 7,
...                          "stage": 0})
>>> run.hop(1, "legacy"), run.hop(2, "legacy")
(<ChainVerdict.LOSSLESS: 'lossless'>, <ChainVerdict.LOSS: 'loss'>)
>>> run.lost[0].field, run.lost[0].hop
('prescaler', 1)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vmcompat import state as statejson
from vmcompat.compat.verdict import CHAIN_SEVERITY, ChainVerdict, Verdict
from vmcompat.errors import Path, dotted
from vmcompat.filters import chain as filter_for
from vmcompat.formats import FORMATS
from vmcompat.model import SUBSECTIONS_KEY, Description, DeviceHistory, Field, Subsection
from vmcompat.types import WireType
from vmcompat.values import immutable
from vmcompat.walk import NOPRIOR, Frame, InputVisitor, Walk

if TYPE_CHECKING:
    from vmcompat.matrix.engine import Outcome

State = dict[str, Any]

#: one hop: save ``state`` with the first description, load it with the second on ``wire``
Loader = Callable[[Description, Description, State, str], "Outcome"]

_MISSING: Any = object()


def engine_hop(src: Description, dst: Description, state: State, wire: str) -> Outcome:
    """The fuzz engine's hop: ``check_state`` on ``wire`` with the registered filters."""
    # the engine sits beside the matrix, which runs chains: imported when a hop runs
    from vmcompat.matrix.engine import check_state

    return check_state(src, dst, state, FORMATS[wire], filter_for(src, dst))


@immutable
class ChainSpec:
    """What chains run over: one device's versions (release order), their labels, the wires."""

    device: str
    versions: tuple[Description, ...]
    labels: tuple[str, ...]
    wires: tuple[str, ...] = ("legacy",)
    loader: Loader = engine_hop

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", tuple(self.versions))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "wires", tuple(self.wires))
        assert len(self.versions) == len(self.labels) and self.wires

    @classmethod
    def of_history(cls, history: DeviceHistory, wires: Sequence[str] = ("legacy",),
                   last: int | None = None, loader: Loader = engine_hop) -> ChainSpec:
        """Chains over a history's versions (only the ``last`` N when given)."""
        versions = history.versions[-last:] if last else history.versions
        return cls(history.name, versions, tuple(str(d.version_id) for d in versions),
                   tuple(wires), loader)


@immutable
class Loss:
    """A field the chain lost that the direct hop keeps."""

    field: str
    hop: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "hop": self.hop, "reason": self.reason}


@immutable
class ChainResult:
    device: str
    path: tuple[str, ...]
    wires: tuple[str, ...]
    verdict: ChainVerdict
    lost_fields: tuple[Loss, ...] = ()
    direct_verdict: str | None = None
    counterexample: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "path": list(self.path), "wires": list(self.wires),
                "verdict": self.verdict.value,
                "lost_fields": [x.to_json() for x in self.lost_fields],
                "direct_verdict": self.direct_verdict, "counterexample": self.counterexample}

    @property
    def arrow(self) -> str:
        """``1 → 2 → 3``"""
        return " → ".join(self.path)


def held(desc: Description) -> tuple[str, ...]:
    """Top-level fields a version holds and migrates (what chain loss is checked on)."""
    return tuple(f.name for f in desc.fields if f.on_wire and f.in_state)


def configuration(desc: Description) -> frozenset[str]:
    """Top-level off-wire fields: the device's configuration, kept along a chain."""
    return frozenset(f.name for f in desc.fields if not f.on_wire)


def writable(desc: Description) -> tuple[str, ...]:
    """Fields a guest-like change may set: held, and nothing else's load depends on them."""
    read: set[str] = set()
    for f in desc.fields:
        if f.exists is not None:
            read |= f.exists.reads()
        if f.varray is not None:
            read.add(f.varray)
    for s in desc.subsections:
        if s.needed is not None:
            read |= s.needed.reads()
    return tuple(f.name for f in desc.fields
                 if f.on_wire and f.in_state and f.exists is None and f.varray is None
                 and f.name not in read and (f.wire_type is None or f.wire_type.check is None))


class _Reset(InputVisitor):
    """Walks a loaded state; a field the load left without a value takes its reset value."""

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        if value is not NOPRIOR:
            return value
        return t.prior(f.default)

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return bytes(n) if value is NOPRIOR else value

    def subsections(self, at: Frame, state: Any) -> Iterator[tuple[Subsection, int]]:
        held = at.desc.held_subsections(state.get(SUBSECTIONS_KEY))
        for s in at.desc.subsections:
            if s in held or s.is_needed(state):
                yield s, s.description.version_id


def reset_filled(desc: Description, state: State) -> State:
    """``state`` (as loaded into ``desc``) with every field it lacks at its reset value.

    A load leaves a field the stream does not carry at the destination's prior
    value or ``default``; with neither, the device holds its reset value, taken
    as zero (empty lists, zero bytes; ``equal`` fields their required value),
    and so does a subsection the state now needs but the stream did not carry.
    The next hop saves every field, so the chain's state must hold them all.

    >>> from vmcompat.dsl import device, uint8, buffer
    >>> reset_filled(device("d", 1, uint8("a"), buffer("b", 2)), {"a": 3})
    {'a': 3, 'b': b'\\x00\\x00'}
    """
    return Walk(_Reset()).device(desc, desc.version_id, state)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(statejson.to_json(value), separators=(",", ":"))
    return text if len(text) <= 60 else text[:57] + "…"


def items(desc: Description, state: State) -> dict[str, Any]:
    """What chain loss compares: the held top-level fields, and the subsections by name."""
    out = {name: state[name] for name in held(desc) if name in state}
    subs = state.get(SUBSECTIONS_KEY) or {}
    out.update((s.name, subs[s.name]) for s in desc.subsections if s.name in subs)
    return out


@dataclass
class _Anchor:
    """A state the guest established at ``pos`` in the path (version index ``at``);
    ``before`` is the state just before the guest change (None for the first state)."""

    pos: int
    at: int
    state: State
    before: State | None = None


@dataclass
class ChainRun:
    """One chain: start at ``spec.versions[start]`` with ``state``, then hops and writes."""

    spec: ChainSpec
    start: int
    state: State
    path: list[int] = field(default_factory=list)
    wires: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    lost: list[Loss] = field(default_factory=list)
    failed: dict[str, Any] | None = None
    #: the chain up to its first refused hop: (path, wires, steps)
    refused: tuple[list[int], list[str], list[dict[str, Any]]] | None = None

    def __post_init__(self) -> None:
        cfg = configuration(self.spec.versions[self.start])
        self.config = {k: v for k, v in self.state.items() if k in cfg}
        self.first = self.state
        self.path = [self.start]
        #: the version index the state is at (a refused or corrupt hop does not move it)
        self.at = self.start
        self.states: list[State] = [self.state]
        self.anchors = [_Anchor(0, self.start, self.state)]
        self._direct: dict[tuple[int, bool, int, str], tuple[Outcome, dict[str, Any] | None]] = {}

    # -- steps ---------------------------------------------------------------------------------
    @property
    def verdict(self) -> ChainVerdict:
        if self.failed is not None:
            return ChainVerdict.CORRUPT
        if self.lost:
            return ChainVerdict.LOSS
        return ChainVerdict.LOSSLESS if self.refused is None else ChainVerdict.REFUSED

    @property
    def over(self) -> bool:
        """Lost or corrupted: later steps change nothing."""
        return self.verdict.bad

    def _send(self, state: State) -> State:
        return {**state, **self.config}

    def hop(self, to: int, wire: str) -> ChainVerdict:
        """Migrate the current state to version index ``to`` on ``wire``; judge the chain."""
        if self.over:
            return self.verdict
        v = self.spec.versions
        out = self.spec.loader(v[self.at], v[to], self._send(self.state), wire)
        self.steps.append({"from": self.spec.labels[self.at], "to": self.spec.labels[to],
                           "wire": wire, "verdict": out.verdict.value})
        if out.verdict is Verdict.REFUSED:
            self.steps[-1]["reason"] = out.detail
            if self.refused is None:
                self.refused = ([*self.path, to], [*self.wires, wire], list(self.steps))
            return self.verdict
        self.path.append(to)
        self.wires.append(wire)
        if out.verdict is not Verdict.COMPATIBLE:
            self.failed = {"detail": out.detail, **(out.counterexample or {})}
            return self.verdict
        self.at, self.state = to, reset_filled(v[to], out.loaded)
        self.states.append(self.state)
        self.lost = self.losses()
        return self.verdict

    def write(self, name: str, value: Any) -> None:
        """A guest-like change: the current version's field ``name`` becomes ``value``."""
        if self.over:
            return
        before, self.state = self.state, {**self.state, name: value}
        self.states[-1] = self.state
        self.anchors.append(_Anchor(len(self.path) - 1, self.at, self.state, before))
        self.steps.append({"write": name, "value": statejson.to_json(value),
                           "at": self.spec.labels[self.at]})

    # -- the direct hop and chain loss -----------------------------------------------------------
    def direct(self, anchor: int, to: int, wire: str, before: bool = False
               ) -> tuple[Outcome, dict[str, Any] | None]:
        """The direct hop from an anchor's state (or the state just before its guest change)
        to version index ``to``, and the :func:`items` it loads (None unless compatible)."""
        key = (anchor, before, to, wire)
        if key not in self._direct:
            a = self.anchors[anchor]
            src = a.before if before and a.before is not None else a.state
            v = self.spec.versions
            out = self.spec.loader(v[a.at], v[to], self._send(src), wire)
            self._direct[key] = (out, items(v[to], reset_filled(v[to], out.loaded))
                                 if out.verdict is Verdict.COMPATIBLE else None)
        return self._direct[key]

    def reference(self, key: str, pos: int) -> tuple[int, Any]:
        """(anchor, value) that ``key`` must have at ``pos`` in the path: from the latest
        guest change whose direct hop moves it, else from the first state."""
        to, wire = self.path[pos], self.wires[pos - 1]
        for k in range(len(self.anchors) - 1, 0, -1):
            if self.anchors[k].pos >= pos:
                continue
            after, before = self.direct(k, to, wire)[1], self.direct(k, to, wire, True)[1]
            if after is not None and before is not None and \
                    after.get(key, _MISSING) != before.get(key, _MISSING):
                return k, after.get(key, _MISSING)
        first = self.direct(0, to, wire)[1]
        return 0, _MISSING if first is None else first.get(key, _MISSING)

    def losses(self) -> list[Loss]:
        """Items of the current version that differ from their direct hop (see module doc)."""
        pos = len(self.path) - 1
        desc = self.spec.versions[self.path[pos]]
        mine = items(desc, self.state)
        from vmcompat.matrix.engine import first_difference

        keys = list(held(desc)) + [s.name for s in desc.subsections]
        found = []
        for key in keys:
            anchor, want = self.reference(key, pos)
            if want is _MISSING:
                continue  # the direct hop is refused, or has no value here: nothing to keep
            got = mine.get(key, _MISSING)
            diff = (key,) if got is _MISSING else first_difference(got, want, (key,))
            if diff is not None:
                found.append(self._explain(key, dotted(diff), anchor, pos, got, want))
        return found

    def _explain(self, key: str, where: str, anchor: int, pos: int, got: Any, want: Any
                 ) -> Loss:
        """The hop where ``key`` was lost, and why."""
        labels, v = self.spec.labels, self.spec.versions
        a = self.anchors[anchor]
        now = labels[self.path[pos]]
        for p in range(a.pos + 1, pos):
            d = v[self.path[p]]
            if key not in held(d) and d.subsection(key) is None:
                return Loss(where, p, f"{labels[self.path[p]]} does not hold {key}: {now} "
                                      f"then loads {_show(got)} where the direct hop "
                                      f"{labels[a.at]} → {now} gives {_show(want)}")
        for p in range(a.pos + 1, pos + 1):
            ref = self.direct(anchor, self.path[p], self.wires[p - 1])[1]
            here = items(v[self.path[p]], self.states[p]).get(key, _MISSING)
            if ref is not None and key in ref and here != ref[key]:
                return Loss(where, p, f"{labels[self.path[p - 1]]} → {labels[self.path[p]]} "
                                      f"loads {_show(here)} where the direct hop "
                                      f"{labels[a.at]} → {labels[self.path[p]]} gives "
                                      f"{_show(ref[key])}")
        return Loss(where, pos, f"{now} loads {_show(got)} where the direct hop "
                                f"{labels[a.at]} → {now} gives {_show(want)}")

    # -- the result ---------------------------------------------------------------------------
    def result(self) -> ChainResult:
        """The chain as reported: a refused chain up to its first refused hop."""
        labels = self.spec.labels
        verdict = self.verdict
        path, wires, steps = self.path, self.wires, self.steps
        if verdict is ChainVerdict.REFUSED and self.refused is not None:
            path, wires, steps = self.refused
        # the first state's direct hop to the chain's last version
        direct = self.direct(0, path[-1], wires[-1])[0].verdict.value if wires else None
        ce = None
        if verdict is not ChainVerdict.LOSSLESS:
            ce = {"start": labels[self.start], "state": statejson.to_json(self.first),
                  "steps": list(steps)}
            if verdict is ChainVerdict.LOSS:
                ce["loaded"] = statejson.to_json(self.state)
            if self.failed is not None:
                ce["hop"] = self.failed
        return ChainResult(self.spec.device, tuple(labels[i] for i in path), tuple(wires),
                           verdict, tuple(self.lost), direct, ce)


def worst(results: Sequence[ChainResult]) -> ChainVerdict:
    return max((r.verdict for r in results), key=CHAIN_SEVERITY.__getitem__,
               default=ChainVerdict.LOSSLESS)


def counts(results: Sequence[ChainResult]) -> Mapping[str, int]:
    """Chains per verdict (every verdict listed)."""
    return {v.value: sum(r.verdict is v for r in results) for v in ChainVerdict}
