"""The cross-version engine: Hypothesis draws states, saves, loads, and judges each cell.

Public contract (used by the matrix): :func:`run_cell`.

For each state drawn from ``states(src)``: encode with ``FORMATS[cell.wire]``
and the source description; when a migration filter applies (``transform``,
by default :func:`vmcompat.filters.chain`), the payload is decoded with the
source description, the filter rewrites the tree, and it is re-encoded with
the destination description (an in-flight stream filter); then the
destination loads the payload into its prior state, and the outcome is judged
against :func:`vmcompat.compat.oracle.expect`.

How the destination's prior is chosen (:func:`prior_for`): QEMU loads into a
device that already exists on the destination, built from the same machine
configuration. So the prior holds what the destination decides and nothing
else: ``equal`` fields at their required value (the destination's
``default``, else 0), ``int32 le`` fields at their bound (``default``),
immutable/derived fields copied from the source state by name (same
configuration; the destination's ``default`` or zero when the source lacks
them), and arrays of pointers with NULL exactly where the source state has
NULL (present slots are empty placeholders). Every other field is absent, so
a field the stream does not carry takes its ``default`` (:func:`vmcompat.walk.load_base`).

Verdict of a cell: the worst example (:data:`~vmcompat.compat.verdict.SEVERITY`).
Hypothesis shrinks every corrupt or crash example to a minimal state; the
counterexample shows it (state JSON), the bytes written (hex), what was loaded,
the expected projection and the first differing field. ``hypothesis.event``
records each example's verdict (``--hypothesis-show-statistics``).

Limits: a hang is not interrupted (a codec that loops forever blocks the
cell); renames are recognised for leaf fields only (a renamed struct field
reads as misaligned: refuse-or-project).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import Phase, Verbosity, event, given
from hypothesis.errors import Flaky

from vmcompat import state as statejson
from vmcompat.compat.oracle import (
    CONTAINERS,
    EITHER,
    EXACT,
    OUTCOMES,
    REFUSE,
    Expectation,
    expect,
    normalize,
)
from vmcompat.compat.verdict import SEVERITY, Cell, CellResult, Verdict
from vmcompat.database import NamespacedDatabase, is_shared
from vmcompat.errors import LoadError, Path, dotted
from vmcompat.filters import chain
from vmcompat.formats import FORMATS, Format
from vmcompat.health import GENERATION_CHECKS
from vmcompat.model import SUBSECTIONS_KEY, Description, Field
from vmcompat.plan import Run
from vmcompat.strategies.states import states
from vmcompat.types import WireType
from vmcompat.walk import Frame, Visitor, Walk

State = dict[str, Any]

# ----------------------------------------------------------------------------- prior
_OMIT: Any = object()
_ABSENT: Any = object()


class _Pair:
    """The source struct being read and the prior struct being built."""

    __slots__ = ("out", "src")

    def __init__(self, src: Any) -> None:
        self.src = src if isinstance(src, dict) else {}
        self.out: State = {}


def _zero(f: Field) -> Any:
    t = f.wire_type
    if t is not None:
        return t.prior(f.default)
    c = f.composite
    return None if c is None else c.zero(f.size)


class PriorBuilder(Visitor):
    """Walks the destination description with the source state; builds the prior."""

    def start_struct(self, at: Frame, value: Any) -> Any:
        return _Pair(value)

    def end_struct(self, at: Frame, value: Any) -> Any:
        return value.out

    def get(self, state: Any, name: str) -> Any:
        return state.src.get(name, _ABSENT)

    def put(self, state: Any, name: str, value: Any) -> Any:
        if value is not _OMIT:
            state.out[name] = value
        return state

    def exists(self, at: Frame, path: Path, f: Field, state: Any) -> bool:
        return True

    def offwire(self, at: Frame, path: Path, f: Field, value: Any) -> Any:
        if value is not _ABSENT:
            return value
        return f.default if f.default is not None else _zero(f)

    def run(self, at: Frame, path: Path, run: Run, state: Any) -> Any:
        """A run's prior is its pinned fields alone, which the plan holds (:attr:`Run.pins`):
        what :meth:`scalar` gives each of its elements, the others omitted."""
        for name, value, n in run.pins:
            if n is None:
                state.out[name] = value
            elif n:
                state.out[name] = [value] * n
        return state

    def scalar(self, at: Frame, path: Path, f: Field, t: WireType, value: Any) -> Any:
        return t.prior(f.default) if t.pinned(f.default) else _OMIT

    def buffer(self, at: Frame, path: Path, f: Field, n: int, value: Any) -> Any:
        return _OMIT

    def count(self, at: Frame, path: Path, f: Field, state: Any) -> int:
        if f.array_len is not None:
            return f.array_len
        src = state.src.get(f.name)
        return len(src) if isinstance(src, list) else 0

    def item(self, value: Any, i: int) -> Any:
        if isinstance(value, list) and i < len(value):
            return value[i]
        return _ABSENT

    def pointer(self, at: Frame, path: Path, f: Field, value: Any) -> bool:
        return value is not None

    def array(self, at: Frame, path: Path, f: Field, n: int | None, items: list[Any]) -> Any:
        if f.pointer:
            return [None if x is None else (_zero(f) if x is _OMIT else x) for x in items]
        if all(x is _OMIT for x in items):
            return _OMIT
        return [_zero(f) if x is _OMIT else x for x in items]

    def list_item(self, at: Frame, path: Path, f: Field, value: Any, i: int) -> tuple[bool, Any]:
        return False, None

    def end_list(self, at: Frame, path: Path, f: Field, items: list[Any]) -> Any:
        return _OMIT

    def start_tree(self, at: Frame, path: Path, f: Field, value: Any) -> int:
        return 0

    def end_tree(self, at: Frame, path: Path, f: Field, nodes: list[Any]) -> Any:
        return _OMIT

    def subsections(self, at: Frame, state: Any) -> Iterator[Any]:
        """Subsections the source state holds: their immutable/derived fields."""
        for s in at.desc.held_subsections(state.src.get(SUBSECTIONS_KEY)):
            yield s, s.description.version_id

    def end_subsections(self, at: Frame, state: Any) -> Any:
        visited = {s.name for s in at.desc.held_subsections(state.src.get(SUBSECTIONS_KEY))}
        subs = state.out.pop(SUBSECTIONS_KEY, None)
        if isinstance(subs, dict):
            kept = {k: v for k, v in subs.items() if k in visited}
            if kept:
                state.out[SUBSECTIONS_KEY] = kept
        return state


def prior_for(src: Description, dst: Description, state: State) -> State:
    """The destination's state before the load (see the module doc).

    >>> from vmcompat.dsl import device, uint8, uint16_equal
    >>> d = device("d", 1, uint8("a", array=2, pointer=True), uint16_equal("m", default=3))
    >>> prior_for(d, d, {"a": [None, 5], "m": 3})
    {'a': [None, 0], 'm': 3}
    """
    return Walk(PriorBuilder()).device(dst, dst.version_id, state)


# ----------------------------------------------------------------------------- one example
@dataclass
class Outcome:
    verdict: Verdict
    reason: str | None = None
    detail: str = ""
    notes: tuple[str, ...] = ()
    counterexample: dict[str, Any] | None = None
    #: the state the destination loaded (normalized), when the load succeeded
    loaded: Any = None


def first_difference(a: Any, b: Any, path: Path = ()) -> Path | None:
    """The first path where two states differ (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return path + (k,)
            x, y = a[k], b[k]
            if type(x) is type(y) and not isinstance(x, CONTAINERS):  # a leaf, compared here
                if not x == y:
                    return path + (k,)
                continue
            d = first_difference(x, y, path + (k,))
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if type(x) is type(y) and not isinstance(x, CONTAINERS):
                if not x == y:
                    return path + (i,)
                continue
            d = first_difference(x, y, path + (i,))
            if d is not None:
                return d
        return None if len(a) == len(b) else path + (min(len(a), len(b)),)
    if a == b and type(a) is type(b):
        return None
    return path



def _json(value: Any) -> Any:
    """A state as plain JSON for a counterexample (converted once: linear in its size)."""
    return statejson.map_leaves(normalize(value), _plain)


def _plain(value: Any) -> Any:
    """A state leaf as JSON; what JSON cannot hold, as its repr."""
    value = statejson.hex_bytes(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _refusal_notes(exp: Expectation, error: LoadError) -> tuple[str, ...]:
    """What a refusal adds to the notes: where QEMU would refuse otherwise, or load."""
    if exp.kind == REFUSE and error.reason != exp.reason:
        return (f"refused as {error.reason.value}, where QEMU refuses with {exp.reason.value}",)
    if exp.kind == EXACT:
        return ("QEMU would load it",)
    return ()


def judge(exp: Expectation, loaded: Any, error: BaseException | None) -> Outcome:
    """Compare what the codec did with the expectation: a :class:`Verdict` (and, when the
    load succeeded, the state it loaded, normalized, in ``loaded``)."""
    notes = exp.notes
    if error is not None and not isinstance(error, LoadError):
        return Outcome(Verdict.CRASH, None, f"{type(error).__name__}: {error}", notes)
    if isinstance(error, LoadError):
        return Outcome(Verdict.REFUSED, error.reason.value, str(error),
                       notes + _refusal_notes(exp, error))
    got = normalize(loaded)
    if exp.kind == REFUSE:
        return Outcome(Verdict.CORRUPT, None,
                       f"the load succeeded, but QEMU refuses it: {exp.detail}", notes,
                       loaded=got)
    diff = first_difference(got, exp.state)
    if diff is None:
        return Outcome(Verdict.COMPATIBLE, None, "", notes, loaded=got)
    why = f": {exp.detail}" if exp.kind == EITHER and exp.detail else ""
    return Outcome(Verdict.CORRUPT, None,
                   f"the loaded state differs at {dotted(diff) or '<top>'} from what the source "
                   f"saved{why}", notes, loaded=got)


def check_state(src: Description, dst: Description, state: State, fmt: Format,
                transform: Callable[[State], State] | None = None,
                prior: State | None = None) -> Outcome:
    """Save ``state`` with ``src``, load with ``dst``, judge. Never raises."""
    written = b""
    loaded: Any = None
    error: BaseException | None = None
    exp: Expectation | None = None
    try:
        saved_desc, saved_state = src, state
        written = fmt.encode(src, state)
        if transform is not None:
            mid = fmt.decode(src, written, src.version_id, prior_for(src, src, state))
            saved_state = statejson.from_json(dst, transform(normalize(mid)))
            saved_desc = dst
            written = fmt.encode(dst, saved_state)
        into = prior if prior is not None else prior_for(saved_desc, dst, saved_state)
        exp = expect(saved_desc, dst, saved_state, into, self_describing=fmt.self_describing)
        try:
            loaded = fmt.decode(dst, written, saved_desc.version_id, into)
        except Exception as e:
            error = e
        out = judge(exp, loaded, error)
    except Exception as e:  # the encoder, a filter or the oracle itself failed
        out = Outcome(Verdict.CRASH, None, f"{type(e).__name__}: {e}")
    if out.verdict.bad:
        out.counterexample = {
            "state": _json(state),
            "written": bytes(written).hex(),
            "loaded": None if error is not None else _json(loaded),
            "expected": None if exp is None else _json(exp.state),
            "expected_outcome": None if exp is None else (
                OUTCOMES[exp.kind] if exp.kind != REFUSE
                else f"{OUTCOMES[REFUSE]}: {exp.reason.value}"),
            "first_difference": None,
            "detail": out.detail,
        }
        if exp is not None and error is None and exp.state is not None:
            d = first_difference(out.loaded, exp.state)
            out.counterexample["first_difference"] = None if d is None else dotted(d)
        if error is not None:
            out.counterexample["error"] = f"{type(error).__name__}: {error}"
    return out


# ----------------------------------------------------------------------------- a cell
class _Bad(Exception):
    """A corrupt or crashing example: stops the run so Hypothesis shrinks it."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


@dataclass
class _Tally:
    examples: int = 0
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    notes: dict[str, None] = field(default_factory=dict)
    first: dict[Verdict, Outcome] = field(default_factory=dict)

    def add(self, o: Outcome) -> None:
        self.examples += 1
        self.verdicts[o.verdict] += 1
        if o.reason:
            self.reasons[o.reason] += 1
        for n in o.notes:
            self.notes.setdefault(n, None)
        self.first.setdefault(o.verdict, o)


def cell_database_key(cell: Cell) -> bytes:
    """The namespace of a cell's examples in a shared database (see
    :class:`~vmcompat.database.NamespacedDatabase`)."""
    return b"vmcompat-cell:" + json.dumps(cell.to_json(), sort_keys=True).encode()


def no_filter(state: State) -> State:
    """Pass as ``transform`` to run a cell without the registered filters."""
    return state


def run_cell(src: Description, dst: Description, cell: Cell, *, max_examples: int = 100,
             seed: int | None = None, settings: hypothesis.settings | None = None,
             transform: Callable[[dict], dict] | None = None,
             prior: dict | None = None,
             observe: Callable[[Outcome], None] | None = None) -> CellResult:
    """Fuzz one cell: states of ``src`` saved with ``src`` and loaded by ``dst``.

    ``seed`` makes the run reproducible (a random one is chosen and returned in
    ``CellResult.seed`` when None); ``settings`` is the base (profile) settings,
    ``max_examples`` always applies. ``transform`` defaults to
    ``vmcompat.filters.chain(src, dst)``; ``prior`` fixes the destination's prior
    state (default: :func:`prior_for` per example). ``transform=no_filter`` runs
    the cell without filters. ``observe`` sees every example's outcome (the pytest
    plugin's verdict statistics).

    Inside a running ``@given`` test, the outer test must suppress
    ``HealthCheck.nested_given`` (Hypothesis's documented opt-in for nesting).
    """
    fmt = FORMATS[cell.wire]
    if transform is None:
        transform = chain(src, dst)
    elif transform is no_filter:
        transform = None
    if seed is None:
        seed = random.getrandbits(32)
    tally = _Tally()

    def body(state: State) -> None:
        out = check_state(src, dst, state, fmt, transform, prior)
        event(f"verdict: {out.verdict.value}")
        if out.reason:
            event(f"refused: {out.reason}")
        tally.add(out)
        if observe is not None:
            observe(out)
        if out.verdict.bad:
            raise _Bad(out)

    base = settings if settings is not None else hypothesis.settings.default
    # only a shared example database (nightly: Redis or a directory) is used: then
    # what one run found is replayed first by the next run of the same cell
    db = (NamespacedDatabase(base.database, cell_database_key(cell))
          if is_shared(base.database) else None)
    phases = (Phase.explicit, Phase.generate, Phase.shrink)
    if db is not None:
        phases = (Phase.explicit, Phase.reuse, *phases[1:])
    run_settings = hypothesis.settings(
        base, max_examples=max_examples, database=db, deadline=None,
        derandomize=False, report_multiple_bugs=False, verbosity=Verbosity.quiet,
        print_blob=False, phases=phases,
        suppress_health_check=[*base.suppress_health_check, *GENERATION_CHECKS])
    found: Outcome | None = None
    # settings after @seed: @seed alone turns the database off, and a shared one is asked for
    test = run_settings(hypothesis.seed(seed)(given(states(src))(body)))
    try:
        test()
    except _Bad as e:
        found = e.outcome
    except Flaky:
        found = None
    worst = max(tally.verdicts, key=SEVERITY.__getitem__, default=Verdict.COMPATIBLE)
    if worst.bad and (found is None or found.verdict is not worst):
        found = tally.first.get(worst)
    reason = None
    if worst.bad and found is not None:
        reason = found.detail
    elif worst is Verdict.REFUSED and tally.reasons:
        reason = tally.reasons.most_common(1)[0][0]
    notes = list(tally.notes)
    if worst is Verdict.REFUSED:
        first = tally.first[Verdict.REFUSED]
        notes.insert(0, first.detail)
    return CellResult(cell, worst, tally.examples, reason,
                      found.counterexample if worst.bad and found is not None else None,
                      tuple(notes), seed)
