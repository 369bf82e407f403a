"""What a real destination did with one fuzzed section, judged against vmcompat's prediction.

The vocabulary (a public contract, ``report.json``'s ``outcomes`` keys):

- ``agree-compatible`` / ``agree-corrupt`` / ``agree-refused``: QEMU did what the
  oracle said (``agree-corrupt``: the oracle said "refuse, or load exactly the
  projection" and QEMU loaded something else);
- ``qemu-rejects``: QEMU refused a state the oracle expected it to load — its own
  check (``post_load``, ``VMSTATE_VALIDATE``, a PCI config mask);
- ``qemu-normalizes``: it loaded, but what it saves again differs from the
  projection in some fields: QEMU recomputed or sanitised them;
- ``qemu-crash``: the destination died (a signal, an assertion), hung past the
  time limit, or saved a stream it cannot load itself;
- ``disagree``: anything else — vmcompat's codec or oracle is wrong.

Between two releases a deviation is a QEMU fact only when the destination does
the same with the state vmcompat predicted, saved by itself: the *control*
(:func:`judge`'s ``control``) loads that state the destination's own way. When
it rejects or normalises it alike, the outcome is ``qemu-rejects`` /
``qemu-normalizes`` (a same-release fact); when it does not, the cross-release
load did something the prediction missed: ``disagree``. A field the control
normalises too is not compared between the two loads: QEMU recomputes it, and a
recomputation may read the clock. Within one release the
example is its own control.

>>> from vmcompat.compat.oracle import Expectation
>>> judge(Expectation("exact", state={"a": 1}), Observed({"a": 2})).outcome.value
'qemu-normalizes'
>>> judge(Expectation("refuse", detail="1 != 2"), Observed({"a": 2})).outcome.value
'disagree'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from vmcompat.compat.oracle import EITHER, EXACT, REFUSE, Expectation, normalize
from vmcompat.model import SUBSECTIONS_KEY
from vmcompat.stream.compare import leaves
from vmcompat.values import field, immutable


class Outcome(str, Enum):
    AGREE_COMPATIBLE = "agree-compatible"
    AGREE_CORRUPT = "agree-corrupt"
    AGREE_REFUSED = "agree-refused"
    QEMU_REJECTS = "qemu-rejects"
    QEMU_NORMALIZES = "qemu-normalizes"
    QEMU_CRASH = "qemu-crash"
    DISAGREE = "disagree"

    @property
    def fails(self) -> bool:
        """Found an incompatibility, a QEMU defect or a vmcompat bug (exit 1).

        QEMU's own checks and normalisations (``qemu-rejects``, ``qemu-normalizes``)
        are documented facts about QEMU, not failures of the run.
        """
        return self in FAILING


FAILING = frozenset({Outcome.AGREE_CORRUPT, Outcome.AGREE_REFUSED, Outcome.QEMU_CRASH,
                     Outcome.DISAGREE})
#: report order, and which finding of a section is shrunk first: worst first
SEVERITY = (Outcome.DISAGREE, Outcome.QEMU_CRASH, Outcome.AGREE_CORRUPT, Outcome.AGREE_REFUSED,
            Outcome.QEMU_REJECTS, Outcome.QEMU_NORMALIZES, Outcome.AGREE_COMPATIBLE)
OUTCOMES = tuple(o.value for o in Outcome)


@immutable
class Observed:
    """What the destination holds in the section after the load (``loaded``), or why not.

    ``error`` is QEMU's error line; ``crashed`` says the destination died, hung or
    saved a stream it cannot load itself; ``undecodable`` that vmcompat cannot read
    what it saved (``error`` says which).
    """

    loaded: Any = None
    error: str = ""
    crashed: bool = False
    undecodable: bool = False
    #: the destination's whole save when it loaded (bytes, decoded stream): a chain's next hop
    saved: Any = field(default=None, repr=False, compare=False)


@immutable
class Judgement:
    """One example's outcome, the fields involved and why."""

    outcome: Outcome
    fields: tuple[str, ...] = ()
    detail: str = ""
    error: str = ""
    #: fields the destination changed on its own (normalised), for the section's list
    normalised: tuple[str, ...] = field(default=())


_NONE: Any = object()


def differing(a: Any, b: Any, prefix: str = "") -> tuple[str, ...]:
    """Leaves where two states differ, or that only one of them holds, named as
    :func:`vmcompat.stream.compare.leaves` names them. Equal subtrees are skipped whole
    (a big section's states differ in a few leaves).

    >>> differing({"a": [1, 2], "__subsections__": {"d/s": {"x": 1}}}, {"a": [1, 3]})
    ('a[1]', 'd/s.x')
    """
    if a is _NONE or b is _NONE:
        return tuple(p for p, _ in leaves(b if a is _NONE else a, prefix))
    if type(a) is type(b) and a == b:
        return ()
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[str] = []
        for k in [*a, *(k for k in b if k not in a)]:
            x, y = a.get(k, _NONE), b.get(k, _NONE)
            if k != SUBSECTIONS_KEY:
                out += differing(x, y, f"{prefix}.{k}" if prefix else str(k))
                continue
            x, y = x if x is not _NONE else {}, y if y is not _NONE else {}
            for name in [*x, *(n for n in y if n not in x)]:
                out += differing(x.get(name, _NONE), y.get(name, _NONE), name)
        return tuple(out)
    if isinstance(a, list) and isinstance(b, list):
        return tuple(p for i in range(max(len(a), len(b))) for p in differing(
            a[i] if i < len(a) else _NONE, b[i] if i < len(b) else _NONE, f"{prefix}[{i}]"))
    return (prefix,)


def judge(exp: Expectation, seen: Observed, control: Callable[[], Observed] | None = None,
          mutated: tuple[str, ...] = ()) -> Judgement:
    """The outcome of one example.

    ``control`` loads the predicted state into the destination its own way (None:
    source and destination are one release, the example is its own control);
    ``mutated`` names the fields the example changed from the capture (the fields of
    a refusal or crash).
    """
    if seen.crashed:
        return Judgement(Outcome.QEMU_CRASH, mutated, "", seen.error)
    if seen.undecodable:
        return Judgement(Outcome.DISAGREE, mutated, seen.error)
    if seen.loaded is None:
        if exp.kind != EXACT:
            return Judgement(Outcome.AGREE_REFUSED, mutated, exp.detail, seen.error)
        c = control() if control is not None else None
        if c is not None and (c.loaded is not None or c.undecodable):
            return Judgement(Outcome.DISAGREE, mutated,
                             "the destination refuses the source's stream, but loads the "
                             "state vmcompat predicted when it saves that itself", seen.error)
        return Judgement(Outcome.QEMU_REJECTS, mutated, "", seen.error)
    if exp.kind == REFUSE:
        return Judgement(Outcome.DISAGREE, mutated,
                         f"QEMU loaded it, where vmcompat expects a refusal: {exp.detail}")
    got = normalize(seen.loaded)
    fields = differing(normalize(exp.state), got)
    if not fields:
        return Judgement(Outcome.AGREE_COMPATIBLE)
    if control is None:
        if exp.kind == EITHER:
            return Judgement(Outcome.AGREE_CORRUPT, fields, exp.detail)
        return Judgement(Outcome.QEMU_NORMALIZES, fields, normalised=fields)
    c = control()
    if c.loaded is not None:
        held = normalize(c.loaded)
        # a field the control recomputes too is QEMU's either way: its value may read the
        # clock (hda-audio's buffer timestamps), so two loads need not agree on it
        recomputed = set(differing(normalize(exp.state), held))
        wrong = tuple(f for f in differing(held, got) if f not in recomputed)
        if not wrong:
            return Judgement(Outcome.QEMU_NORMALIZES, fields, normalised=fields)
        why = ("the destination holds other values than when it loads the predicted state "
               "saved by itself")
    else:
        wrong = fields
        why = f"the destination does not load the predicted state saved by itself: {c.error}"
    if exp.kind == EITHER:
        return Judgement(Outcome.AGREE_CORRUPT, wrong, exp.detail)
    return Judgement(Outcome.DISAGREE, wrong, why, c.error)


#: numbers in QEMU's messages: decimal, 0x-hex, negative, bare hex with a digit, and a
#: hex byte after ": " or "=" (``cmask: ff``)
_NUMBER = re.compile(r"-?\b(?:0x)?(?=[0-9a-fA-F]*\d)[0-9a-fA-F]+\b|(?<=[:=] )[0-9a-fA-F]{1,2}\b")
_PROGRAM = re.compile(r"^[^\s:]*qemu[^\s:]*: ", re.IGNORECASE)


#: how QEMU's error lines about the whole load start (they name no check)
_GENERIC = ("error while loading state", "load of migration failed")


def error_kind(error: str) -> str:
    """What QEMU's check says, without the program name, the numbers and the generic lines.

    >>> error_kind("qemu-system-x86_64: 4 != 0; qemu-system-x86_64: Failed to load PCIBUS:nirq; "
    ...            "qemu-system-x86_64: error while loading state for instance 0x0 of device 'x'")
    'N != N; Failed to load PCIBUS:nirq'
    """
    parts = [_PROGRAM.sub("", p).strip() for p in error.split("; ")]
    specific = [p for p in parts if p and not p.startswith(_GENERIC)][:2] or parts[:1]
    return _NUMBER.sub("N", "; ".join(specific))


def signature(j: Judgement) -> tuple[str, str]:
    """Which examples are one finding (shrunk once): the outcome and what it is about."""
    if j.outcome in (Outcome.QEMU_REJECTS, Outcome.AGREE_REFUSED, Outcome.QEMU_CRASH):
        return j.outcome.value, error_kind(j.error)
    if j.outcome is Outcome.QEMU_NORMALIZES:
        return j.outcome.value, ""  # the section's normalised fields list them all
    return j.outcome.value, j.fields[0] if j.fields else ""
