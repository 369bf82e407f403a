"""``vmcompat qemu cross``: real migrations between QEMU releases, section by section.

For each machine type and each ordered pair of QEMUs (A→B and B→A): capture on A,
load into B (paused), and when B loads it, capture B again and decode both streams.
Each section (by wire identity: idstr, and instance) gets the **real outcome**:

* ``compatible`` — loaded, and B holds what A sent (fields matched by name; what B
  lacks or adds is listed), and the fields A does not have keep B's own values;
* ``corrupt`` — loaded, but fields differ (or a field A does not have lost B's value:
  the bytes of something else landed in it);
* ``refused`` — QEMU refused it (its error line is kept);
* ``not-reached`` — QEMU stopped before this section.

When QEMU refuses a section, that section is taken out of the stream and the load is
tried again (QEMU loads a stream with a section missing without a word), so every
other section still gets a real outcome. Fields that change on a load within one
release (QEMU recomputes or sanitises them, or migrates uninitialised bytes) are
learnt from A→A and B→B loads and left out of the comparison (``normalised``).

Next to each outcome, vmcompat's **prediction** from the two releases' descriptions
alone (each capture's vmdesc merged with its QEMU's ``-dump-vmstate``): the oracle
on the captured state (``predicted``, the destination's own state as its prior; this
is what ``agrees`` compares), the oracle over random states (``predicted_random``)
and the static checker's errors (``checker``). :func:`measures` scores each
predictor against the real outcomes per direction (precision, recall).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vmcompat.compat import directions as D
from vmcompat.dumps import as_captured, from_dump
from vmcompat.errors import InputError
from vmcompat.model import Description
from vmcompat.qemu.ops import capture, dump, load_and_capture
from vmcompat.qemu.releases import Qemu
from vmcompat.stream.compare import diff_states, leaves
from vmcompat.stream.devices import device_table
from vmcompat.stream.model import Section, Stream
from vmcompat.stream.reader import read_stream
from vmcompat.values import immutable

COMPATIBLE, CORRUPT, REFUSED, NOT_REACHED = "compatible", "corrupt", "refused", "not-reached"
OUTCOMES = (COMPATIBLE, CORRUPT, REFUSED, NOT_REACHED)
#: outcomes that make a migration of the section fail
INCOMPATIBLE = frozenset({CORRUPT, REFUSED})
#: examples of the random-state oracle per section and direction
RANDOM_EXAMPLES = 10


@immutable
class Cell:
    """One section of one migration (machine, source → destination). JSON keys are public."""

    machine: str
    source: str
    destination: str
    section: str
    outcome: str
    qemu_error: str = ""
    predicted: str = ""
    predicted_random: str = ""
    checker: tuple[str, ...] = ()
    checker_warnings: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    only_source: tuple[str, ...] = ()
    only_destination: tuple[str, ...] = ()
    normalised: tuple[str, ...] = ()
    reason: str = ""
    #: why the prediction for the captured state is not the real outcome (a known limit)
    limit: str = ""

    @property
    def direction(self) -> str:
        return D.of_versions(_release_key(self.source), _release_key(self.destination))

    @property
    def agrees(self) -> bool | None:
        """Whether the prediction for the captured state is the real outcome."""
        if self.outcome == NOT_REACHED or not self.predicted:
            return None
        return self.predicted == self.outcome

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "machine": self.machine, "source": self.source, "destination": self.destination,
            "direction": self.direction, "section": self.section, "outcome": self.outcome,
            "qemu_error": self.qemu_error, "predicted": self.predicted,
            "predicted_random": self.predicted_random, "checker": list(self.checker),
            "checker_warnings": list(self.checker_warnings), "agrees": self.agrees}
        for key in ("fields", "only_source", "only_destination", "normalised"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("reason", "limit"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def _release_key(name: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", name)
    return tuple(int(p) for p in parts) or (0,)


@dataclass
class Capture:
    """One QEMU's capture of one machine: the stream, its sections, typed descriptions."""

    qemu: Qemu
    machine: str
    data: bytes
    stream: Stream
    descriptions: dict[str, Description]

    def sections(self) -> dict[str, Section]:
        return {key_of(s): s for s in self.stream.sections if s.state is not None}


def key_of(sec: Section) -> str:
    """A section's wire identity: its idstr, ``idstr#N`` for instance N > 0."""
    return sec.idstr if sec.instance_id == 0 else f"{sec.idstr}#{sec.instance_id}"


@dataclass
class Run:
    """One real load attempt sequence A→B: what loaded, what was refused on the way."""

    machine: str
    source: str
    destination: str
    loaded: Stream | None
    refused: dict[str, str] = field(default_factory=dict)  # section -> QEMU's error
    stopped: str = ""  # an error no section could be blamed for


@immutable
class Options:
    devices: tuple[str, ...] = ()
    run: float = 0.0
    random_examples: int = RANDOM_EXAMPLES
    seed: int = 0
    timeout: float = 60.0


def capture_on(qemu: Qemu, machine: str, opts: Options,
               dumps: dict[tuple[str, str], Any]) -> Capture:
    """Capture ``machine`` on ``qemu``; descriptions from its vmdesc and its dump."""
    data = capture(machine, qemu=qemu, devices=opts.devices, run=opts.run, timeout=opts.timeout)
    stream = read_stream(data, file=f"{qemu.name}:{machine}")
    key = (qemu.binary, machine)
    if key not in dumps:
        dumps[key] = from_dump(dump(machine, qemu=qemu, devices=opts.devices,
                                    timeout=opts.timeout), f"{qemu.name} -dump-vmstate")
    vmdesc = stream.vmdesc.obj if stream.vmdesc is not None else None
    if vmdesc is None:
        raise InputError(f"a {machine} stream has no vmdesc: cross needs machine types "
                         "2.3 and newer", device=machine)
    table = device_table(vmdesc, dump=dumps[key])
    descs = {e.key: e.description for e in table.entries if e.description is not None}
    return Capture(qemu, machine, data, stream, descs)


# -- real loads --------------------------------------------------------------------------------
#: QEMU's words that name the section a load failed on (savevm.c, vmstate.c)
_BLAME = (
    re.compile(r"Missing section footer for (?P<idstr>[^\s;]+)"),
    re.compile(r"error while loading state for instance 0x(?P<hex>[0-9a-f]+) of device "
               r"'(?P<idstr>[^']+)'"),
    re.compile(r"error while loading state section id \d+\((?P<idstr>[^)]+)\)"),
    re.compile(r"Unknown savevm section or instance '(?P<idstr>[^']+)' (?P<inst>\d+)"),
    re.compile(r"unsupported version \d+ for '(?P<idstr>[^']+)' v\d+"),
)


def blamed(message: str, keys: Iterable[str]) -> str | None:
    """The section (wire identity) QEMU's error line names, if any.

    >>> blamed("error while loading state for instance 0x1 of device 'dma'", ["dma", "dma#1"])
    'dma#1'
    """
    keys = set(keys)
    for pattern in _BLAME:
        for m in pattern.finditer(message):
            g = m.groupdict()
            inst = int(g["hex"], 16) if g.get("hex") else int(g.get("inst") or 0)
            key = g["idstr"] if inst == 0 else f"{g['idstr']}#{inst}"
            for k in (key, g["idstr"]):
                if k in keys:
                    return k
    return None


def without(stream_data: bytes, drop: set[str]) -> bytes:
    """The stream with the device sections ``drop`` taken out (vmdesc left as it is)."""
    from vmcompat.stream.writer import to_bytes

    s = read_stream(stream_data)
    kept = tuple(x for x in s.items if not (isinstance(x, Section) and key_of(x) in drop
                                            and x.state is not None))
    return bytes(to_bytes(replace(s, items=kept)))


def real_load(src: Capture, dst: Qemu, opts: Options) -> Run:
    """Load ``src`` into ``dst``, taking out refused sections until the rest loads."""
    keys = list(src.sections())
    run = Run(src.machine, src.qemu.name, dst.name, None)
    data = src.data
    with tempfile.TemporaryDirectory(prefix="vmcompat-cross-") as tmp:
        for _ in range(len(keys) + 1):
            path = os.path.join(tmp, "stream.bin")
            with open(path, "wb") as fh:
                fh.write(data)
            out, message = load_and_capture(src.machine, path, qemu=dst, devices=opts.devices,
                                            timeout=opts.timeout)
            if out is not None:
                run.loaded = read_stream(out, file=f"{dst.name}:{src.machine}")
                return run
            who = blamed(message, [k for k in keys if k not in run.refused])
            if who is None:
                run.stopped = message
                return run
            run.refused[who] = message
            data = without(src.data, set(run.refused))
    return run


def normalised_fields(own: Capture, opts: Options) -> dict[str, frozenset[str]]:
    """Per section, the fields a load within one release changes (learnt, not assumed)."""
    run = real_load(own, own.qemu, opts)
    if run.loaded is None:
        raise InputError(f"QEMU {own.qemu.name} does not load its own {own.machine} stream: "
                         f"{run.stopped or run.refused}", device=own.machine)
    again = {key_of(s): s for s in run.loaded.sections if s.state is not None}
    out = {}
    for key, sec in own.sections().items():
        if key in again:
            d = diff_states(sec.state, again[key].state)
            if d.changed:
                out[key] = frozenset(d.changed)
    return out


# -- predictions -------------------------------------------------------------------------------
@immutable
class Prediction:
    captured: str
    random: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def predict(key: str, src: Description, dst: Description | None, state: Any, prior: Any,
            opts: Options, direction: str) -> Prediction:
    """The oracle on the captured state and over random states, and the checker's codes."""
    from vmcompat.compat.checker import compare
    from vmcompat.compat.verdict import Cell as MatrixCell
    from vmcompat.formats import FORMATS
    from vmcompat.matrix.engine import check_state, run_cell

    if dst is None:
        return Prediction(REFUSED, REFUSED, ("SECTION_MISSING",), ())
    fmt = FORMATS["legacy"]
    out = check_state(src, dst, as_captured(src, state), fmt,
                      prior=None if prior is None else as_captured(dst, prior))
    captured = out.verdict.value
    rnd = ""
    if opts.random_examples > 0:
        cell = MatrixCell(key, "a", "b", "legacy", direction)
        rnd = run_cell(src, dst, cell, max_examples=opts.random_examples,
                       seed=opts.seed).verdict.value
    found = compare(key, src, dst, direction=direction)
    return Prediction(captured, rnd, tuple(sorted({f.rule for f in found if f.error})),
                      tuple(sorted({f.rule for f in found if f.severity == "warning"})))


def explain(c: Cell, src: Description, dst: Description | None, prior: Any,
            loaded: Any) -> str:
    """Why the prediction for the captured state differs from the real outcome, when it is
    a known limit of predicting from descriptions alone ("" when it agrees or is not)."""
    from vmcompat.dumps import has_unknown_needed, has_unknown_test

    if c.agrees is not False or dst is None:
        return ""
    if c.outcome == REFUSED:
        tests = sorted({f.name for d in (src, dst) for f in _fields(d) if has_unknown_test(f)}
                       | {s.name for d in (src, dst) for s in _subs(d) if has_unknown_needed(s)})
        if tests:
            return ("the layout QEMU reads depends on field_exists tests and needed functions "
                    "(C code a dump does not show: " + ", ".join(tests[:6])
                    + (", …" if len(tests) > 6 else "") + "); vmcompat takes each as in the "
                    "destination's own save")
    if c.outcome == CORRUPT and prior is not None and loaded is not None:
        own = dict(leaves(prior))
        again = dict(leaves(loaded))
        if c.fields and all(p in own and p in again and own[p] == again[p] for p in c.fields):
            return ("the destination's save writes its own value into "
                    + ", ".join(c.fields) + " (a pre_save or post_load hook): re-saving shows "
                    "that value, not the one it loaded")
    if c.outcome == COMPATIBLE and c.predicted == CORRUPT:
        sizes = [f.name for f in _fields(src) if (g := _field(dst, f.name)) is not None
                 and f.type == g.type == "buffer" and f.size != g.size]
        if sizes:
            return (f"{', '.join(sizes)} changed size: the oracle compares every byte, the "
                    "captured value is a NUL-terminated name padded with zeros")
    return ""


def _fields(d: Description) -> Iterable[Any]:
    for f in d.fields:
        yield f
        if f.struct is not None:
            yield from _fields(f.struct)
    for s in d.subsections:
        yield from _fields(s.description)


def _subs(d: Description) -> Iterable[Any]:
    for s in d.subsections:
        yield s
        yield from _subs(s.description)
    for f in d.fields:
        if f.struct is not None:
            yield from _subs(f.struct)


def _field(d: Description, name: str) -> Any:
    return next((f for f in d.fields if f.name == name), None)


def cells_of(run: Run, src: Capture, dst: Capture, ignore: Mapping[str, frozenset[str]],
             opts: Options) -> list[Cell]:
    """Every section of ``src``'s stream: its real outcome and the predictions."""
    loaded = ({key_of(s): s for s in run.loaded.sections if s.state is not None}
              if run.loaded is not None else {})
    prior = dst.sections()
    direction = D.of_versions(_release_key(run.source), _release_key(run.destination))
    out = []
    for key, sec in src.sections().items():
        base = Cell(run.machine, run.source, run.destination, key, NOT_REACHED)
        if key in run.refused:
            c = replace(base, outcome=REFUSED, qemu_error=_short(run.refused[key]))
        elif key in loaded:
            skip = ignore.get(key, frozenset())
            d = diff_states(sec.state, loaded[key].state, ignore=skip)
            # a field the source does not have must keep the destination's own value
            own = prior.get(key)
            lost = () if own is None else tuple(
                p for p in diff_states(own.state, loaded[key].state, ignore=skip).changed
                if p in d.only_b)
            bad = d.changed + lost
            c = replace(base, outcome=CORRUPT if bad else COMPATIBLE, fields=bad,
                        only_source=d.only_a, only_destination=d.only_b,
                        normalised=tuple(sorted(skip)),
                        reason=(f"{', '.join(lost)}: the source has no such field, yet the "
                                f"load changed the destination's own value") if lost else "")
        else:
            c = replace(base, qemu_error=_short(run.stopped))
        p = prior.get(key)
        sd, dd = src.descriptions[key], dst.descriptions.get(key)
        pr = predict(key, sd, dd, sec.state, None if p is None else p.state, opts, direction)
        c = replace(c, predicted=pr.captured, predicted_random=pr.random, checker=pr.errors,
                    checker_warnings=pr.warnings)
        out.append(replace(c, limit=explain(c, sd, dd, None if p is None else p.state,
                                            loaded[key].state if key in loaded else None)))
    return out


def _short(message: str) -> str:
    """QEMU's error line without the generic trailer it repeats on every failure."""
    parts = [p for p in message.split("; ") if "load of migration failed" not in p]
    return "; ".join(parts) or message


# -- the whole run -----------------------------------------------------------------------------
def cross(qemus: Sequence[Qemu], machines: Sequence[str], opts: Options,
          log: Callable[[str], None] = lambda _m: None) -> list[Cell]:
    """Every machine × ordered pair of distinct QEMUs, every section."""
    if len(qemus) < 2 or len({q.binary for q in qemus}) < len(qemus):
        raise InputError("give two different QEMUs (--qemu A --qemu B)")
    cells: list[Cell] = []
    dumps: dict[tuple[str, str], Any] = {}
    for machine in machines:
        caps = {q.name: capture_on(q, machine, opts, dumps) for q in qemus}
        norm = {q.name: normalised_fields(caps[q.name], opts) for q in qemus}
        for a in qemus:
            for b in qemus:
                if a is b:
                    continue
                log(f"{machine}: {a.name} -> {b.name}")
                run = real_load(caps[a.name], b, opts)
                ignore = {k: norm[a.name].get(k, frozenset()) | norm[b.name].get(k, frozenset())
                          for k in set(norm[a.name]) | set(norm[b.name])}
                cells += cells_of(run, caps[a.name], caps[b.name], ignore, opts)
    return cells


# -- scoring -----------------------------------------------------------------------------------
PREDICTORS: dict[str, Callable[[Cell], bool]] = {
    "oracle (captured state)": lambda c: c.predicted in INCOMPATIBLE or c.predicted == "crash",
    "oracle (random states)": lambda c: c.predicted_random in INCOMPATIBLE
    or c.predicted_random == "crash",
    "checker (errors)": lambda c: bool(c.checker),
    "checker (errors and warnings)": lambda c: bool(c.checker or c.checker_warnings),
}


def measures(cells: Sequence[Cell]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per predictor and direction: true/false positives/negatives, precision, recall.

    Positive = the migration of the section fails (refused or corrupt); sections QEMU
    never reached are left out.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, says in PREDICTORS.items():
        out[name] = {}
        for direction in (D.UPGRADE, D.DOWNGRADE):
            tp = fp = fn = tn = 0
            for c in cells:
                if c.outcome == NOT_REACHED or c.direction != direction:
                    continue
                real, guess = c.outcome in INCOMPATIBLE, says(c)
                tp += real and guess
                fp += guess and not real
                fn += real and not guess
                tn += not real and not guess
            out[name][direction] = {
                "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / (tp + fn), 3) if tp + fn else None}
    return out
