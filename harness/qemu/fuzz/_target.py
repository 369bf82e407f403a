"""One fuzzed section in one direction: the capture it goes into, the load, what comes back.

* :class:`ReleaseCapture` — a release's capture of the machine (deterministic: CPUs
  stopped, clock pinned) with its ``-dump-vmstate``: the stream, and the typed
  description of each section (the stream's vmdesc merged with the dump).
* :class:`Direction` — source → destination. Its *base* is the source's capture less
  the sections the destination refuses whatever their state (7.2's ``pciespscsi``
  in 10.0: "Missing section footer"); those are fuzzed alone, each in the base.
* :class:`Target` — one section of a direction: a state goes into the base in place
  of the captured section (the rest stays as captured), the destination loads it
  paused and saves again (:func:`vmcompat.qemu.ops.load_then_save`), and vmcompat
  decodes the section it now holds (:meth:`Target.observe`). :meth:`Target.judge`
  compares that with the oracle's prediction over the two releases' descriptions,
  the destination's captured section being its state before the load.

A load that does not complete in time is tried once more with the whole ``timeout``; a
second timeout is a hang (``qemu-crash``). The first try is allowed :data:`SLOWER` times
the slowest load this release has completed so far (at least :data:`FIRST_TRY`, at most
``timeout``): a state that makes QEMU spin costs seconds, not two whole timeouts. A QEMU
that cannot start at all is not a finding: the run stops with that error. QEMU runs in its
own process group, killed by its id on every exit path (:class:`vmcompat.qemu.session.Session`).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vmcompat import state as statejson
from vmcompat.compat.oracle import REFUSE, Expectation, expect, normalize
from vmcompat.errors import InputError, LoadError, Reason, VmcompatError
from vmcompat.model import Description
from vmcompat.qemu.cross import Options as CrossOptions
from vmcompat.qemu.cross import capture_on, key_of, real_load
from vmcompat.qemu.fuzz._outcomes import Judgement, Observed, differing, judge
from vmcompat.qemu.fuzz._pin import pin
from vmcompat.qemu.ops import load, load_then_save
from vmcompat.qemu.releases import Qemu
from vmcompat.qemu.session import QemuError, QemuTimeout
from vmcompat.stream.compare import cut_spans
from vmcompat.stream.devices import DeviceTable, device_table, encode_payload
from vmcompat.stream.model import Section, Stream, Vmdesc
from vmcompat.stream.reader import StreamReader, find_vmdesc, read_stream
from vmcompat.values import immutable

#: a section's wire identity (:func:`vmcompat.qemu.cross.key_of`): idstr, ``idstr#N``
Key = str
FOOTER_SIZE = 5
#: vmdescs whose merged descriptions a release keeps (each load may send other subsections)
MAX_TABLES = 64


def state_key(state: Any) -> str:
    """A state as one string: equal states, equal keys (the cache of examples)."""
    return json.dumps(statejson.to_json(state), sort_keys=True, separators=(",", ":"))


#: the first try of a load may take this many times the slowest completed load ...
SLOWER = 5.0
#: ... but at least this many seconds
FIRST_TRY = 8.0


@immutable
class Saved:
    """A load then save: the saved stream, or QEMU's error (``crashed``: died or hung)."""

    stream: bytes | None = field(repr=False)
    error: str = ""
    crashed: bool = False


@immutable
class ReleaseCapture:
    """A release's capture of ``machine`` with ``devices``, decoded with its own descriptions."""

    qemu: Qemu
    machine: str
    devices: tuple[str, ...]
    data: bytes = field(repr=False)
    stream: Stream = field(repr=False)
    dump: Mapping[str, Description]
    table: DeviceTable
    timeout: float = 30.0
    _tables: dict[bytes, DeviceTable] = field(default_factory=dict, compare=False, repr=False)
    #: the slowest load then save this release completed (seconds), for the first try
    _slowest: list[float] = field(default_factory=lambda: [0.0], compare=False, repr=False)

    def first_try(self) -> float:
        """Seconds the first try of a load may take (see the module docstring)."""
        if not self._slowest[0]:
            return self.timeout
        return min(self.timeout, max(FIRST_TRY, SLOWER * self._slowest[0]))

    @classmethod
    def take(cls, qemu: Qemu, machine: str, devices: tuple[str, ...], *,
             timeout: float = 30.0) -> ReleaseCapture:
        """Capture ``machine`` on ``qemu`` and dump it (:func:`vmcompat.qemu.cross.capture_on`)."""
        dumps: dict[tuple[str, str], Any] = {}
        cap = capture_on(qemu, machine, CrossOptions(devices, timeout=timeout), dumps)
        dumped = dumps[(qemu.binary, machine)]
        vmdesc = cap.stream.vmdesc
        assert vmdesc is not None  # capture_on refuses a capture without one
        table = device_table(vmdesc.obj, dump=dumped)
        return cls(qemu, machine, devices, cap.data, cap.stream, dumped, table, timeout,
                   {vmdesc.raw: table})

    def sections(self) -> dict[Key, Section]:
        """The device sections of the capture, by wire identity, in stream order."""
        return {key_of(s): s for s in self.stream.sections if s.state is not None}

    def description(self, key: Key) -> Description | None:
        """The section's description, its unknown tests decided by what a state holds."""
        sec = self.sections().get(key)
        entry = None if sec is None else self.table.lookup(sec.idstr, sec.instance_id)
        if entry is None or entry.description is None:
            return None
        return pin(entry.description)

    def decode(self, data: bytes) -> Stream:
        """A stream this release saved, decoded with its own vmdesc and this release's dump.

        The descriptions of a vmdesc are merged with the dump once (a load changes what
        a save sends only where a subsection's ``needed`` or a field's test changes).
        """
        vmdesc = find_vmdesc(data)
        if vmdesc is None:
            return read_stream(data, dump=self.dump)  # says why it does not decode
        return StreamReader(data, self.table_of(data, vmdesc), canonical=False,
                            known=vmdesc).read()

    def table_of(self, data: bytes, vmdesc: Vmdesc | None = None) -> DeviceTable:
        """The descriptions a stream this release saved was written with (its vmdesc
        merged with this release's dump), made once per distinct vmdesc."""
        vmdesc = vmdesc or find_vmdesc(data)
        if vmdesc is None or not vmdesc.ok:
            raise InputError(f"a stream QEMU {self.qemu.name} saved has no vmdesc")
        table = self._tables.get(vmdesc.raw)
        if table is None:
            if len(self._tables) > MAX_TABLES:
                self._tables.clear()
            table = self._tables[vmdesc.raw] = device_table(vmdesc.obj, dump=self.dump)
        return table

    def load(self, data: bytes) -> Saved:
        """Load ``data`` paused and save again: the stream this release then saves."""
        with tempfile.TemporaryDirectory(prefix="vmcompat-fuzz-") as tmp:
            path = os.path.join(tmp, "stream.bin")
            with open(path, "wb") as fh:
                fh.write(data)
            # a machine busy with other work gets a second chance, with the whole timeout
            for limit in (self.first_try(), self.timeout):
                started = time.monotonic()
                try:
                    r = load_then_save(self.machine, path, qemu=self.qemu,
                                       devices=self.devices, timeout=limit)
                    break
                except QemuTimeout as e:
                    hang = str(e)  # the second try's words: the whole timeout
            else:
                return Saved(None, f"hang: {hang} (twice)", crashed=True)
            if r.stream is not None:
                self._slowest[0] = max(self._slowest[0], time.monotonic() - started)
        if r.stream is None:
            signum = died_of(r.status)
            if signum is None:
                return Saved(None, r.error or f"QEMU exited with status {r.status}")
            name = signal.Signals(signum).name if signum in _SIGNALS else f"signal {signum}"
            said = [x for x in r.error.split("; ") if ": warning: " not in x]
            return Saved(None, "; ".join([*said, f"killed by {name}"]), crashed=True)
        return Saved(r.stream)

    def reloads(self, data: bytes) -> str:
        """QEMU's error when this release cannot load ``data`` (a stream it saved), else ""."""
        with tempfile.TemporaryDirectory(prefix="vmcompat-fuzz-") as tmp:
            path = os.path.join(tmp, "stream.bin")
            with open(path, "wb") as fh:
                fh.write(data)
            ok, message = load(self.machine, path, qemu=self.qemu, devices=self.devices,
                               timeout=self.timeout)
        return "" if ok else message


_SIGNALS = frozenset(int(s) for s in signal.Signals)


def died_of(status: int | None) -> int | None:
    """The signal that ended a process (its status negative, or 128 + N from a shell)."""
    if status is None or 0 <= status < 128:
        return None
    return -status if status < 0 else status - 128


def section_span(stream: Stream, sec: Section) -> tuple[int, int]:
    """Where the whole section (header to footer) lies in the stream it was read from."""
    return sec.offset, sec.payload[1] + (FOOTER_SIZE if stream.layout.footers else 0)


@dataclass
class Direction:
    """``source`` saves, ``destination`` loads; ``blockers``: sections it refuses outright."""

    source: ReleaseCapture
    destination: ReleaseCapture
    blockers: dict[Key, str] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        """Both ends are one release: the example is its own control."""
        return self.source.qemu == self.destination.qemu

    def find_blockers(self) -> None:
        """Load the source's capture as it is, taking out each section the destination
        refuses until the rest loads (:func:`vmcompat.qemu.cross.real_load`)."""
        src, dst = self.source, self.destination
        run = real_load(src, dst.qemu,  # type: ignore[arg-type]
                        CrossOptions(dst.devices, timeout=dst.timeout))
        if run.loaded is None:
            raise QemuError(f"QEMU {dst.qemu.name} does not load the capture of QEMU "
                            f"{src.qemu.name} ({src.machine}): {run.stopped}")
        self.blockers = dict(run.refused)

    def target(self, key: Key) -> Target:
        src, dst = self.source, self.destination
        sec = src.sections()[key]
        desc = src.description(key)
        if desc is None:
            raise InputError(f"section {key} has no description in QEMU "
                             f"{src.qemu.name}'s vmdesc")
        removed = [section_span(src.stream, src.sections()[k]) for k in self.blockers
                   if k != key]
        data = cut_spans(src.data, removed)
        shift = sum(e - s for s, e in removed if e <= sec.offset)
        start, end = sec.payload[0] - shift, sec.payload[1] - shift
        theirs = dst.sections().get(key)
        return Target(self, key, desc, dst.description(key), sec.state,
                      None if theirs is None else theirs.state, data[:start], data[end:])


@dataclass
class Target:
    """One section of one direction, ready to take states."""

    direction: Direction
    key: Key
    source: Description
    destination: Description | None
    captured: Any
    prior: Any
    head: bytes
    tail: bytes
    runs: int = 0  # destination loads so far (controls included)
    _controls: dict[str, Observed] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.key

    @property
    def path(self) -> tuple[str, ...]:
        """The releases the state goes through: source, destination."""
        return self.direction.source.qemu.name, self.direction.destination.qemu.name

    @property
    def blocked(self) -> str:
        """QEMU's error when the destination refuses this section whatever its state."""
        return self.direction.blockers.get(self.key, "")

    @property
    def setup(self) -> tuple[str, tuple[str, ...]]:
        """The machine type and device set of the captures."""
        return self.direction.source.machine, self.direction.source.devices

    def stream(self, state: Any) -> bytes:
        """The base stream with ``state`` in place of the captured section."""
        return self.head + encode_payload(self.source, state) + self.tail

    def expectation(self, state: Any, source: Description | None = None) -> Expectation:
        """The oracle's prediction for ``state`` (saved with ``source``, default the
        section's description in the source's capture)."""
        if self.destination is None:
            sec = self.direction.source.sections()[self.key]
            idstr, instance = sec.idstr, sec.instance_id
            return Expectation(REFUSE, reason=Reason.UNKNOWN_SECTION,
                               detail=f"Unknown savevm section or instance '{idstr}' {instance}")
        return expect(source or self.source, self.destination, state, self.prior)

    def observe(self, data: bytes, release: ReleaseCapture | None = None) -> Observed:
        """What the destination (or ``release``) holds in this section after loading ``data``."""
        release = release or self.direction.destination
        self.runs += 1
        seen = release.load(data)
        if seen.stream is None:
            return Observed(None, seen.error, crashed=seen.crashed)
        saved = seen.stream
        try:
            stream = release.decode(saved)
        except (LoadError, InputError) as e:
            error = release.reloads(saved)
            self.runs += 1
            if error:
                return Observed(None, f"QEMU {release.qemu.name} saved a stream it cannot load "
                                      f"itself: {error}", crashed=True)
            return Observed(None, f"vmcompat cannot decode the stream QEMU saved, which QEMU "
                                  f"loads: {e}", undecodable=True)
        for sec in stream.sections:
            if key_of(sec) == self.key and sec.state is not None:
                return Observed(sec.state, saved=(saved, stream))
        return Observed(None, f"QEMU {release.qemu.name} saved no section {self.name}",
                        undecodable=True)

    def control(self, exp: Expectation) -> Observed:
        """The destination loading the predicted state saved its own way (its own capture)."""
        state = normalize(exp.state)
        k = state_key(state)
        if k not in self._controls:
            dst = self.direction.destination
            sec = dst.sections()[self.key]
            assert self.destination is not None
            try:
                payload = encode_payload(self.destination, state)
            except (VmcompatError, KeyError, TypeError, ValueError) as e:
                self._controls[k] = Observed(None, f"the predicted state does not encode: {e}",
                                             undecodable=True)
                return self._controls[k]
            data = dst.data[:sec.payload[0]] + payload + dst.data[sec.payload[1]:]
            self._controls[k] = self.observe(data, dst)
        return self._controls[k]

    def run(self, state: Any, data: bytes, source: Description | None = None
            ) -> tuple[Judgement, Observed]:
        """The destination loads ``data`` (which holds ``state``, saved with ``source``):
        the judgement, and what it observed."""
        exp = self.expectation(state, source)
        seen = self.observe(data)
        mutated = differing(self.captured, state)
        control = None if self.direction.same or self.destination is None else \
            (lambda: self.control(exp))
        return judge(exp, seen, control, mutated), seen

    def judge(self, state: Any) -> tuple[Judgement, bytes]:
        """Run one example: its judgement, and the stream that reproduces it."""
        data = self.stream(state)
        return self.run(state, data)[0], data
