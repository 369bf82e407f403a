"""The static checker: run the rules of :mod:`harness.compat.rules` over two descriptions.

For each device the source has, the checker works out what a loader of the
destination would meet, and never stops at the first mismatch:

* the section: is there a destination device of that name, does its version
  accept the source's stream version (``VERSION_TOO_NEW``, ``MINIMUM_ABOVE_SOURCE``);
* the fields: which fields a stream of the source's version carries (fields
  with ``version_id`` <= that version, plus exists-tested ones) against those
  the destination reads for that version; fields are matched by name, in order
  (longest common subsequence), the rest are renames (same place, same wire
  type), removals, additions, reorders, or bytes covered by ``unused_buffer``.
  A struct the other side does not have is opened when its fields match there
  (fields moved into a substruct keep the wire layout, as in QEMU's checker);
* nested structs recursively, with each side's own version (it never travels);
* subsections: one the source may send but the destination lacks fails
  ("does not exist"); one the destination has but the source never sends is fine.

Directions (:mod:`harness.compat.directions`): ``upgrade`` (OLD's data loaded by
NEW), ``downgrade`` (NEW's data loaded by OLD), ``both``; the old words
``backward``, ``forward`` and ``full`` are accepted too. Over inputs ``I0 … In``:
consecutive pairs, or with ``transitive`` every ``Ii`` against ``In``.

>>> from harness.dsl import device, uint8, uint16
>>> old = {"d": device("d", 1, uint8("a"))}
>>> new = {"d": device("d", 1, uint8("a"), uint16("b"))}
>>> [f.rule for f in check([Input("old", old), Input("new", new)]).findings]
['FIELD_ADDED_UNVERSIONED']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.compat import directions as D
from harness.compat import rules as R
from harness.compat.ignores import Config, Ignore
from harness.errors import InputError
from harness.model import Description, Field

#: how deep nested descriptions go before the checker gives up (cycles are impossible
#: in immutable values, but hostile input may be deep)
MAX_DEPTH = 64

#: section versions claimed by (source, destination) dumps beside their descriptions'
Claims = tuple[tuple[int, ...] | None, tuple[int, ...] | None]


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One finding. JSON keys are public: extend, never rename."""

    rule: str
    severity: str
    category: str
    direction: str
    device: str
    path: str
    message: str
    source: str = ""
    destination: str = ""
    evidence: dict[str, Any] | None = None
    ignored: str | None = None  # the ignore's reason, when an ignore matched

    @property
    def error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule, "severity": self.severity, "category": self.category,
            "direction": self.direction, "device": self.device, "path": self.path,
            "message": self.message, "source": self.source, "destination": self.destination}
        if self.evidence is not None:
            out["evidence"] = self.evidence
        if self.ignored is not None:
            out["ignored"] = self.ignored
        return out


@dataclass(frozen=True)
class Input:
    """One input of ``check``: a label (the argument) and its devices."""

    label: str
    devices: Mapping[str, Description]
    #: versions a dump claims for a section where they differ from its description's
    #: (only hand-edited dumps: QEMU's checker test data)
    sections: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """One (source, destination, direction) the checker ran, and the devices it compared."""

    source: str
    destination: str
    direction: str
    devices: tuple[str, ...]


#: (source label, destination label, direction, device) of one compared device
PairKey = tuple[str, str, str, str]


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    ignored: list[Finding] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    #: the descriptions compared, for ``prove`` (not part of the JSON)
    pairs: dict[PairKey, tuple[Description, Description | None]] = field(
        default_factory=dict, repr=False)
    #: section versions dumps claim apart from their descriptions', for ``prove``
    claims: dict[PairKey, Claims] = field(default_factory=dict, repr=False)

    @property
    def compatible(self) -> bool:
        return not any(f.error for f in self.findings)

    @property
    def devices(self) -> list[str]:
        """Every device checked, in first-seen order."""
        seen: dict[str, None] = {}
        for c in self.comparisons:
            seen.update(dict.fromkeys(c.devices))
        return list(seen)

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in R.SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {"compatible": self.compatible,
                "findings": [f.to_json() for f in self.findings],
                "ignored": [f.to_json() for f in self.ignored],
                "counts": self.counts(),
                "comparisons": [{"source": c.source, "destination": c.destination,
                                 "direction": c.direction, "devices": len(c.devices)}
                                for c in self.comparisons]}


#: JSON Schema of ``Result.to_json()`` (``vmcompat check --format json``): keys are public,
#: extend, never rename. ``evidence`` is present with ``--prove``; ``ignored`` holds the
#: findings an ignore matched, each with the ignore's reason.
FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rule", "severity", "category", "direction", "device", "path", "message"],
    "properties": {
        "rule": {"type": "string", "pattern": "^[A-Z_]+$"},
        "severity": {"enum": list(R.SEVERITIES)},
        "category": {"enum": list(R.CATEGORIES)},
        "direction": {"enum": [D.UPGRADE, D.DOWNGRADE, ""]},
        "device": {"type": "string"},
        "path": {"type": "string"},
        "message": {"type": "string"},
        "source": {"type": "string"},
        "destination": {"type": "string"},
        "ignored": {"type": "string"},
        "evidence": {"type": "object", "required": ["status"], "properties": {
            "status": {"enum": ["reproduced", "not reproduced", "not exercisable",
                                "engine error"]},
            "verdict": {"enum": ["compatible", "refused", "corrupt", "crash"]},
            "static_only": {"type": "boolean"},
            "why": {"type": "string"}}},
    },
}
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "vmcompat check result",
    "type": "object",
    "required": ["compatible", "findings"],
    "properties": {
        "compatible": {"type": "boolean"},
        "findings": {"type": "array", "items": FINDING_SCHEMA},
        "ignored": {"type": "array", "items": FINDING_SCHEMA},
        "counts": {"type": "object", "properties": {
            s: {"type": "integer", "minimum": 0} for s in R.SEVERITIES}},
        "comparisons": {"type": "array", "items": {
            "type": "object", "required": ["source", "destination", "direction", "devices"],
            "properties": {"direction": {"enum": [D.UPGRADE, D.DOWNGRADE]},
                           "devices": {"type": "integer", "minimum": 0}}}},
    },
}


# -- paths -------------------------------------------------------------------------------------
def render_path(segments: Sequence[str]) -> str:
    """A finding's ``path`` (JSON, ignores): segments joined by ``/``, JSON-pointer
    escaped (``~`` -> ``~0``, ``/`` -> ``~1``) so that a machine can split it."""
    return "/".join(str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def qemu_path(path: str) -> str:
    """A finding's path as people read it, in QEMU's own names (subsections keep their
    ``/``); ignores match this form too.

    >>> qemu_path("PIIX3-xen/PIIX3/PIIX3~1rcr")
    'PIIX3-xen/PIIX3/PIIX3/rcr'
    """
    return "/".join(path_segments(path))


def path_segments(path: str) -> list[str]:
    """The names in a finding's path (the inverse of :func:`render_path`)."""
    return [s.replace("~1", "/").replace("~0", "~") for s in path.split("/")]


# -- alignment ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    """A field as seen at one level: possibly from inside an opened struct."""

    field: Field
    names: tuple[str, ...]     # field names from the compared description
    display: tuple[str, ...]   # path segments (with nested description names)
    present: bool              # on the wire at this stream version
    desc: Description          # the description declaring the field
    nested: bool = False       # comes from an opened struct


def _unused(f: Field) -> bool:
    return f.type == "unused_buffer"


def _openable(f: Field) -> bool:
    """A plain struct whose fields sit inline on the wire (no array, test, subsections)."""
    return (f.type == "struct" and f.struct is not None and not f.is_array and not f.pointer
            and f.exists is None and f.on_wire and not f.struct.subsections)


def _items(desc: Description, version: int, opened: frozenset[tuple[str, ...]],
           prefix: tuple[str, ...] = (), display: tuple[str, ...] = (), present: bool = True,
           nested: bool = False, depth: int = 0) -> list[_Item]:
    out: list[_Item] = []
    for f in desc.fields:
        here = present and f.on_wire and f.present_at(version)
        names = prefix + (f.name,)
        if names in opened and _openable(f) and depth < MAX_DEPTH:
            assert f.struct is not None
            out += _items(f.struct, f.struct.version_id, opened, names,
                          display + (f.name, f.struct.name), here, True, depth + 1)
        else:
            out.append(_Item(f, names, display + (f.name,), here, desc, nested))
    return out


def _child_names(f: Field) -> set[str]:
    assert f.struct is not None
    return {g.name for g in f.struct.fields if not _unused(g)}


def _open_structs(src: Description, dst: Description, vs: int, vd: int
                  ) -> tuple[list[_Item], list[_Item]]:
    """Open structs one side has and the other has flat (QEMU's checker does the same)."""
    os_: frozenset[tuple[str, ...]] = frozenset()
    od: frozenset[tuple[str, ...]] = frozenset()
    for _ in range(MAX_DEPTH):
        s, d = _items(src, vs, os_), _items(dst, vd, od)
        ks = {i.field.name for i in s if not _unused(i.field)}
        kd = {i.field.name for i in d if not _unused(i.field)}
        add_s = {i.names for i in s if _openable(i.field) and i.field.name not in kd
                 and _child_names(i.field) & kd}
        add_d = {i.names for i in d if _openable(i.field) and i.field.name not in ks
                 and _child_names(i.field) & ks}
        if not add_s and not add_d:
            break
        os_, od = os_ | add_s, od | add_d
    return s, d


def _lcs(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """Longest common subsequence (the fields that kept their relative order)."""
    if a == b:
        return list(a)
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            t[i][j] = t[i + 1][j + 1] + 1 if a[i] == b[j] else max(t[i + 1][j], t[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append(a[i])
            i, j = i + 1, j + 1
        elif t[i + 1][j] >= t[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def _dsig(d: Description | None, depth: int = 0) -> Any:
    """The wire signature of a description: field layout without names."""
    if d is None or depth > MAX_DEPTH:
        return None
    return (tuple(_sig(f, depth) for f in d.fields_at(d.version_id) if f.on_wire),
            tuple((s.name, _dsig(s.description, depth + 1)) for s in d.subsections))


def _sig(f: Field, depth: int = 0) -> Any:
    key = _dsig(f.key, depth + 1) if isinstance(f.key, Description) else f.key
    return (R.base_type(f), R.element_bytes(f), f.array_len, f.varray is not None, f.pointer,
            f.exists is not None, _dsig(f.struct, depth + 1), key,
            f.list_marker if f.is_list else None)


_SUFFIX = re.compile(r"\[\d+\]$")


def _base_name(name: str) -> str:
    """A field's name without the ``[k]`` QEMU (and dump imports) add to repeated names."""
    return _SUFFIX.sub("", name)


def _untested(f: Field) -> Field:
    return f if f.exists is None else replace(f, exists=None)


def _level(i: _Item, level: str) -> str:
    return "nested" if i.nested else level


def _bytes(items: Sequence[_Item]) -> int | None:
    total = 0
    for i in items:
        s = i.field.wire_size()
        if s is None or i.field.exists is not None:
            return None
        total += s
    return total


# -- one device, one direction -----------------------------------------------------------------
class _Comparer:
    """Compares one source description with one destination description."""

    def __init__(self, device: str, direction: str, source: str, destination: str) -> None:
        self.device, self.direction = device, direction
        self.source, self.destination = source, destination
        self.findings: list[Finding] = []

    def emit(self, site: Any, segments: Sequence[str]) -> None:
        path = render_path(segments)
        for r in R.BY_SITE[site.kind]:
            for message in r.check(site):
                self.findings.append(Finding(r.code, r.severity, r.category, self.direction,
                                             self.device, path, message, self.source,
                                             self.destination))

    def section(self, src: Description, dst: Description | None,
                versions: Claims = (None, None), dst_device: str = "") -> list[Finding]:
        segs = (self.device, src.name)
        self.emit(R.SectionSite(self.device, src, dst, dst_device), segs)
        if dst is not None:
            self.description(segs, src, dst, "section", src.version_id, 0, versions)
        return self.findings

    def description(self, segs: tuple[str, ...], src: Description, dst: Description,
                    level: str, version: int, depth: int, versions: Claims = (None, None)
                    ) -> None:
        if depth > MAX_DEPTH:
            raise InputError("descriptions nested too deeply", device=self.device)
        sent, local = versions
        self.emit(R.Desc(src, dst, level, max(sent) if sent else version,
                         min(sent) if sent else None, min(local) if local else None), segs)
        if level == "nested":
            vs, vd = src.version_id, dst.version_id
        else:
            vs, vd = version, min(version, dst.version_id)
            if version < dst.minimum_version_id and dst.marshal_for(version) is not None:
                return  # a marshal function loads it: LEGACY_LOADER said so
        self.fields(segs, src, dst, vs, vd, level, depth)
        self.subsections(segs, src, dst, depth)

    def fields(self, segs: tuple[str, ...], src: Description, dst: Description, vs: int,
               vd: int, level: str, depth: int) -> None:
        s_items, d_items = _open_structs(src, dst, vs, vd)
        cs = Counter(i.field.name for i in s_items if not _unused(i.field))
        cd = Counter(i.field.name for i in d_items if not _unused(i.field))

        def key(i: _Item) -> str | None:
            if _unused(i.field):
                return None
            n = i.field.name
            return n if cs[n] <= 1 and cd[n] <= 1 else "/".join(i.names)

        smap = {k: i for i in s_items if (k := key(i)) is not None}
        dmap = {k: i for i in d_items if (k := key(i)) is not None}
        common = {k for k in smap if k in dmap}

        for k, a in smap.items():
            b = dmap.get(k)
            if b is not None and a.present != b.present:
                self.emit(R.Presence(a.field, b.field, a.present, b.present, vs, vd),
                          segs + a.display)

        both = {k for k in common if smap[k].present and dmap[k].present}
        seq_s = [k for i in s_items if (k := key(i)) in both and i.present]
        seq_d = [k for i in d_items if (k := key(i)) in both and i.present]
        anchors = _lcs(seq_s, seq_d)
        kept = set(anchors)
        for idx, k in enumerate(seq_s):
            if k not in kept:
                self.emit(R.Reorder(smap[k].field, dmap[k].field, idx, seq_d.index(k)),
                          segs + smap[k].display)
        for k in seq_s:
            self.pair(segs, smap[k], dmap[k], vs, vd, level, depth)

        gs = self._gaps([i for i in s_items if i.present], anchors, key, common)
        gd = self._gaps([i for i in d_items if i.present], anchors, key, common)
        for a_gap, b_gap in zip(gs, gd, strict=True):
            self.gap(segs, a_gap, b_gap, vs, vd, level, depth)

    @staticmethod
    def _gaps(items: list[_Item], anchors: list[str], key: Any, common: set[str]
              ) -> list[list[_Item]]:
        out: list[list[_Item]] = [[] for _ in range(len(anchors) + 1)]
        pos = 0
        for i in items:
            k = key(i)
            if k is not None and pos < len(anchors) and k == anchors[pos]:
                pos += 1
            elif k is None or k not in common:
                out[pos].append(i)
        return out

    def gap(self, segs: tuple[str, ...], gs: list[_Item], gd: list[_Item], vs: int, vd: int,
            level: str, depth: int) -> None:
        """Fields between two matched fields: renames and equal unused bytes at either end
        (same place from the previous or to the next matched field), then the rest."""
        head = self._same_place(gs, gd)
        tail = self._same_place(gs[head:][::-1], gd[head:][::-1])
        ends = list(zip(gs[:head], gd[:head], strict=True))
        ends += zip(gs[len(gs) - tail:], gd[len(gd) - tail:], strict=True)
        rs, rd = gs[head:len(gs) - tail], gd[head:len(gd) - tail]
        for a, b in ends:
            if not _unused(a.field):
                self.renamed(segs, a, b, vs, vd, level, depth)
        self._rest(segs, rs, rd, vs, vd, level, depth)

    def renamed(self, segs: tuple[str, ...], a: _Item, b: _Item, vs: int, vd: int, level: str,
                depth: int) -> None:
        """A pair matched by place, not by name: a rename unless only the ``[k]`` differs."""
        if _base_name(a.field.name) != _base_name(b.field.name):
            self.emit(R.Rename(a.field, b.field, "/".join(a.names), "/".join(b.names)),
                      segs + a.display)
        self.pair(segs, a, b, vs, vd, level, depth, by_name=False)

    @staticmethod
    def _same_place(gs: list[_Item], gd: list[_Item]) -> int:
        """How many leading items pair up: equal unused bytes, or renames."""
        i = 0
        while i < min(len(gs), len(gd)):
            a, b = gs[i].field, gd[i].field
            ua, ub = _unused(a), _unused(b)
            if ua and ub and a.wire_size() == b.wire_size() is not None:
                i += 1
            elif not ua and not ub and (_sig(a) == _sig(b)
                                        or _base_name(a.name) == _base_name(b.name)):
                i += 1
            else:
                break
        return i

    def _rest(self, segs: tuple[str, ...], rs: list[_Item], rd: list[_Item], vs: int,
              vd: int, level: str, depth: int) -> None:
        if any(_unused(x.field) for x in (*rs, *rd)):
            bs, bd = _bytes(rs), _bytes(rd)
            if bs is not None and bs == bd:
                for x in rs:
                    if not _unused(x.field):
                        self.emit(R.Covered(x.field, "source"), segs + x.display)
                for x in rd:
                    if not _unused(x.field):
                        self.emit(R.Covered(x.field, "destination"), segs + x.display)
            else:
                first = (rs or rd)[0]
                self.emit(R.Gap(tuple(x.field for x in rs), tuple(x.field for x in rd), bs, bd),
                          segs + first.display)
            return
        # tested alternatives (QEMU's VMSTATE_*_TEST pairs): a field one side always sends
        # and the other reads under a test, with the same layout
        left = list(rd)
        alone = []
        for a in rs:
            b = next((x for x in left if (a.field.exists is None) != (x.field.exists is None)
                      and _sig(_untested(a.field)) == _sig(_untested(x.field))), None)
            if b is None:
                alone.append(a)
            else:
                left.remove(b)
                self.renamed(segs, a, b, vs, vd, level, depth)
        rs, rd = alone, left
        for x in rs:
            self.emit(R.Orphan(x.field, "source", vd, vs, _level(x, level)), segs + x.display)
        for x in rd:
            self.emit(R.Orphan(x.field, "destination", vd, vs, _level(x, level)),
                      segs + x.display)

    def pair(self, segs: tuple[str, ...], a: _Item, b: _Item, vs: int, vd: int, level: str,
             depth: int, by_name: bool = True) -> None:
        lvl = "nested" if (a.nested or b.nested or level == "nested") else level
        here = segs + a.display
        if a.names != b.names and a.field.name == b.field.name:
            # moved into (or out of) a struct: same bytes, another path
            self.emit(R.Rename(a.field, b.field, "/".join(a.names), "/".join(b.names),
                               moved=True), here)
        self.emit(R.Pair(a.field, b.field, a.desc, b.desc, vd, vs, lvl, by_name), here)
        sa, sb = a.field.struct, b.field.struct
        if sa is not None and sb is not None:
            self.description(here + (sa.name,), sa, sb, "nested", sa.version_id, depth + 1)
        ka, kb = a.field.key, b.field.key
        if isinstance(ka, Description) and isinstance(kb, Description):
            self.description(here + ("key", ka.name), ka, kb, "nested", ka.version_id, depth + 1)

    def subsections(self, segs: tuple[str, ...], src: Description, dst: Description,
                    depth: int) -> None:
        src_names = {s.name for s in src.subsections}
        spare = [d for d in dst.subsections if d.name not in src_names]
        for s in src.subsections:
            if R.never(s.needed):
                continue
            d = dst.subsection(s.name)
            renamed = None
            if d is None:
                sig = _dsig(s.description)
                renamed = next((x for x in spare if _dsig(x.description) == sig), None)
            here = segs + (s.name,)
            self.emit(R.Sub(src, dst, s, d, renamed), here)
            if d is not None:
                self.description(here, s.description, d.description, "subsection",
                                 s.description.version_id, depth + 1)


def compare(device: str, src: Description, dst: Description | None, *,
            direction: str = D.UPGRADE, source: str = "", destination: str = "",
            versions: Claims = (None, None), dst_device: str = "") -> list[Finding]:
    """Every finding for one device loaded from ``src``'s stream into ``dst``.

    ``versions`` are the section versions of source and destination when a dump
    gives them apart from the descriptions' (only hand-edited dumps do);
    ``dst_device`` names the destination's device when it was matched by wire
    identity under another name.
    """
    return _Comparer(device, direction, source, destination).section(src, dst, versions,
                                                                     dst_device)


# -- inputs ------------------------------------------------------------------------------------
def load_input(arg: str) -> Input:
    """An input of ``check``: anything :func:`harness.sources.load_all` reads.

    QEMU dumps are read leniently, like QEMU's own checker reads them: a device
    entry without a ``Description`` gets an empty one named after the entry (so
    its fields show as removed), and an entry whose ``version_id`` differs from
    its description's keeps it as the section version (hand-edited test dumps).
    """
    from harness.sources import load_all

    if not arg.startswith("catalog:"):
        from harness.descjson import read_json

        obj = read_json(arg)
        if _loose_dump(obj):
            from harness import dumps

            fixed, sections = _normalise_dump(obj)
            return Input(arg, dumps.from_dump(fixed, arg), sections)
    return Input(arg, load_all(arg))


def _loose_dump(obj: Any) -> bool:
    if not isinstance(obj, dict) or not obj:
        return False
    entries = [v for k, v in obj.items() if k != "vmschkmachine"]
    return bool(entries) and all(
        isinstance(v, dict) and "Name" in v and ("Description" in v or "version_id" in v)
        for v in entries)


def _normalise_dump(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    fixed: dict[str, Any] = {}
    sections: dict[str, tuple[int, ...]] = {}
    for key, entry in obj.items():
        if key == "vmschkmachine" or not isinstance(entry, dict):
            fixed[key] = entry
            continue
        e = dict(entry)
        if "Description" not in e and isinstance(e.get("version_id"), int):
            e["Description"] = {"name": str(e.get("Name", key)), "version_id": e["version_id"],
                                "minimum_version_id": e.get("minimum_version_id", 0)}
        d = e.get("Description")
        v = e.get("version_id")
        if isinstance(d, dict) and isinstance(v, int) and isinstance(d.get("version_id"), int):
            claims = {v, d["version_id"]}
            d = e["Description"] = _normalise_desc(d)
            if claims != {d["version_id"]}:
                sections[key] = tuple(sorted(claims))
            e["version_id"] = d["version_id"]
        fixed[key] = e
    return fixed, sections


def _normalise_desc(d: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Raise a description's version_id to its highest field version_id (recursively)."""
    if depth > MAX_DEPTH:
        return d
    out = dict(d)
    fields = out.get("Fields")
    if isinstance(fields, list):
        out["Fields"] = [dict(f, Description=_normalise_desc(f["Description"], depth + 1))
                         if isinstance(f, dict) and isinstance(f.get("Description"), dict)
                         else f for f in fields]
        top = max((f.get("version_id", 0) for f in fields
                   if isinstance(f, dict) and isinstance(f.get("version_id"), int)), default=0)
        if isinstance(out.get("version_id"), int) and out["version_id"] < top:
            out["version_id"] = top
    subs = out.get("Subsections")
    if isinstance(subs, list):
        out["Subsections"] = [_normalise_desc(x, depth + 1) if isinstance(x, dict) else x
                              for x in subs]
    return out


# -- many inputs -------------------------------------------------------------------------------
def input_pairs(n: int, transitive: bool) -> list[tuple[int, int]]:
    """(older, newer) index pairs: consecutive, or every earlier one against the newest."""
    if n < 2:
        raise InputError("check needs at least two inputs (OLD NEW)")
    if transitive:
        return [(i, n - 1) for i in range(n - 1)]
    return [(i, i + 1) for i in range(n - 1)]


#: (name, old description, new description, the other side's name when it differs,
#: the side that has ``name``: "old", "new" or "both")
DevicePair = tuple[str, Description | None, Description | None, str, str]


def _devices(old: Input, new: Input, only: Sequence[str]) -> list[DevicePair]:
    """Every device of either input, paired by name, else by wire identity.

    A section travels under its VMStateDescription name (the idstr), not its QOM
    type: a device one side lacks by name pairs with the other side's device of the
    same VMStateDescription (preferring an identical description), so a renamed QOM
    type is matched, not reported missing. Several QOM types may share one
    description (``PIIX3``, ``pci-piix3``, ``PIIX3-xen``): each pairs with its own
    name where it can.
    """
    o, n = dict(old.devices), dict(new.devices)
    if len(o) == 1 and len(n) == 1 and set(o) != set(n):
        # two single-device inputs (e.g. a catalog ref and a file): the same device
        (ko, do), (_, dn) = next(iter(o.items())), next(iter(n.items()))
        o, n = {ko: do}, {ko: dn}
    names = list(o) + [k for k in n if k not in o]
    if only:
        names = [k for k in names if k in only]
    out: list[DevicePair] = []
    for k in names:
        do, dn = o.get(k), n.get(k)
        if do is not None and dn is not None:
            out.append((k, do, dn, "", "both"))
        elif do is not None:
            other = _by_wire_identity(do, n, o)
            out.append((k, do, n.get(other) if other else None, other, "old"))
        elif dn is not None:
            other = _by_wire_identity(dn, o, n)
            out.append((k, o.get(other) if other else None, dn, other, "new"))
    return out


def _by_wire_identity(d: Description, there: Mapping[str, Description],
                      here: Mapping[str, Description]) -> str:
    """The device of ``there`` (absent by name from ``here``) with ``d``'s VMSD name."""
    same = [k for k, e in there.items() if e.name == d.name and k not in here]
    same = same or [k for k, e in there.items() if e.name == d.name]
    return next((k for k in same if there[k] == d), same[0] if same else "")


def check(inputs: Sequence[Input], *, direction: str = D.UPGRADE, transitive: bool = False,
          devices: Sequence[str] = (), config: Config | None = None) -> Result:
    """Check the inputs (ordered old to new) and apply the ignores of ``config``;
    ``devices``: only these (default: every device)."""
    dirs = D.runs(direction)
    for device in devices:
        if not any(device in i.devices for i in inputs):
            raise InputError(f"no device {device!r} in any input")
    result = Result()
    for i, j in input_pairs(len(inputs), transitive):
        old, new = inputs[i], inputs[j]
        devs = _devices(old, new, devices)
        for d in dirs:
            up = d == D.UPGRADE
            src, dst = (old, new) if up else (new, old)
            names = []
            for name, do, dn, other, side in devs:
                if side != "both" and side != ("old" if up else "new"):
                    continue  # a device only the destination names: nothing is sent
                s, t = (do, dn) if up else (dn, do)
                names.append(name)
                key = (src.label, dst.label, d, name)
                result.pairs[key] = (s, t)
                claims = (src.sections.get(name), dst.sections.get(name))
                if claims != (None, None):
                    result.claims[key] = claims
                result.findings += compare(name, s, t, direction=d, source=src.label,
                                           destination=dst.label, versions=claims,
                                           dst_device=other)
            result.comparisons.append(Comparison(src.label, dst.label, d, tuple(names)))
    if config is not None:
        apply_ignores(result, config)
    return result


def apply_ignores(result: Result, config: Config) -> None:
    """Move ignored findings aside; report ignores that matched nothing (IGNORE_UNUSED)."""
    used: set[int] = set()
    kept: list[Finding] = []
    for f in result.findings:
        hit: Ignore | None = next((ig for ig in config.ignores
                                   if ig.matches(f.rule, f.device, f.path)
                                   or ig.matches(f.rule, f.device, qemu_path(f.path))), None)
        if hit is None:
            kept.append(f)
        else:
            used.add(hit.index)
            result.ignored.append(replace(f, ignored=hit.reason))
    devices = set(result.devices)
    rule = R.RULES["IGNORE_UNUSED"]
    for ig in config.ignores:
        if ig.index in used or not ig.could_match_device(devices):
            continue
        site = R.StaleIgnore(ig.index, ig.rule, ig.device, ig.path, ig.reason,
                             config.file or "pyproject.toml")
        for message in rule.check(site):
            kept.append(Finding(rule.code, rule.severity, rule.category, "", ig.device or "",
                                f"{config.file or 'pyproject.toml'}#ignore[{ig.index}]",
                                message))
    result.findings = kept


def by_device(findings: Sequence[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """Findings grouped by device, in first-seen order."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.device, []).append(f)
    yield from groups.items()


# -- evidence: the dynamic engine on the devices with findings ---------------------------------
#: rules about what lies outside a device's payload: the engine loads payloads only
NOT_EXERCISABLE = {
    "SECTION_MISSING": "the section is refused before any payload is read",
    "DESCRIPTION_RENAMED": "the section idstr is outside the payload the engine loads",
    "IGNORE_UNUSED": "a configuration finding",
}


def prove(result: Result, *, max_examples: int = 50, seed: int = 0, wire: str = "legacy",
          run_cell: Any = None) -> Result:
    """Run the dynamic engine on each (comparison, device) with findings; attach evidence.

    The evidence is the cell's result (``CellResult.to_json()``: verdict, reason,
    counterexample, examples, seed) plus ``status``: ``reproduced`` when the
    cell's verdict is not compatible (refused, corrupt or crash), ``not
    reproduced`` when every example loaded as expected, ``not exercisable`` for
    rules about things outside a payload, ``engine error`` if the engine failed.
    A finding the engine did not reproduce or cannot exercise is ``"static_only":
    true``, and ``why`` says what the dynamic run could not reach (a subsection
    whose needed function a dump does not show is never sent, a dump claims a
    section version its description does not have, …).
    Evidence is per cell: the findings of a device in one comparison share it.
    When the cell is refused on the version alone, findings about fields are
    exercised again past the version check (the destination's version range
    widened to take the source's stream; ``"versions_relaxed": true``), so a
    version refusal does not hide what the fields would do.
    """
    if run_cell is None:
        from harness.compat.engine import run_cell
    from harness.compat.verdict import Cell, Verdict

    cache: dict[tuple[PairKey, bool], dict[str, Any]] = {}

    def evidence(f: Finding, relaxed: bool) -> dict[str, Any]:
        key = (f.source, f.destination, f.direction, f.device)
        if (key, relaxed) in cache:
            return cache[(key, relaxed)]
        src, dst = result.pairs[key]
        assert dst is not None
        if relaxed:
            dst = dst.evolve(version_id=max(dst.version_id, src.version_id),
                             minimum_version_id=min(dst.minimum_version_id, src.version_id))
        cell = Cell(f.device, f.source, f.destination, wire, f.direction)
        try:
            cr = run_cell(src, dst, cell, max_examples=max_examples, seed=seed)
        except Exception as e:  # the engine is another module: report, do not crash
            ev: dict[str, Any] = {"status": "engine error",
                                  "error": f"{type(e).__name__}: {e}"}
        else:
            ev = cr.to_json()
            ev["seed"] = cr.seed
            ev["status"] = ("not reproduced" if cr.verdict is Verdict.COMPATIBLE
                            else "reproduced")
            if relaxed:
                ev["versions_relaxed"] = True
        cache[(key, relaxed)] = ev
        return ev

    out = []
    for f in result.findings:
        key = (f.source, f.destination, f.direction, f.device)
        if f.rule in NOT_EXERCISABLE:
            ev = {"status": "not exercisable", "why": NOT_EXERCISABLE[f.rule]}
        elif key not in result.pairs or result.pairs[key][1] is None:
            ev = {"status": "not exercisable", "why": "no destination description"}
        else:
            ev = evidence(f, False)
            if ev.get("reason") in VERSION_REASONS and f.rule not in VERSION_RULES:
                ev = evidence(f, True)
            if ev["status"] == "not reproduced":
                ev = dict(ev, why=not_reached(f, result))
        if ev["status"] in ("not reproduced", "not exercisable"):
            ev = dict(ev, static_only=True)
        out.append(replace(f, evidence=ev))
    result.findings = out
    return result


#: refusals on the version alone, and the rules that predict them
VERSION_REASONS = frozenset({"too_new", "too_old"})
VERSION_RULES = frozenset({"VERSION_TOO_NEW", "MINIMUM_ABOVE_SOURCE", "LEGACY_LOADER"})


def not_reached(f: Finding, result: Result) -> str:
    """Why the dynamic run did not meet what finding ``f`` is about."""
    key = (f.source, f.destination, f.direction, f.device)
    src, dst = result.pairs[key]
    if f.rule in VERSION_RULES:
        claims = result.claims.get(key, (None, None))
        for label, versions, d in zip((f.source, f.destination), claims, (src, dst)):
            if versions and d is not None:
                return (f"{label} gives this section versions "
                        f"{' and '.join(map(str, versions))}, its description only "
                        f"{d.version_id}: the dynamic run saves and loads with the "
                        f"descriptions' versions")
    unknown = _unknown_on_path(src, path_segments(f.path)[2:])
    if unknown is not None:
        return unknown
    return ("every example loaded as QEMU would load it: the finding may need states the "
            "run did not draw")


def _unknown_on_path(desc: Description, segments: Sequence[str]) -> str | None:
    """A needed or field_exists function from a QEMU dump on the way to ``segments``:
    vmcompat cannot run it, so the dynamic run always or never sends what it guards."""
    from harness.dumps import has_unknown_needed, has_unknown_test

    i = 0
    for _ in range(MAX_DEPTH):
        if i >= len(segments):
            return None
        seg = segments[i]
        sub = desc.subsection(seg)
        if sub is not None:
            if has_unknown_needed(sub):
                return (f"the dynamic run never sends subsection '{seg}': its needed "
                        f"function is {R.UNKNOWN_C}")
            desc, i = sub.description, i + 1
            continue
        f = next((x for x in desc.fields if x.name == seg), None)
        if f is None:
            return None
        if has_unknown_test(f):
            assert f.exists is not None
            how = "always" if f.exists({}) else "never"
            return (f"the dynamic run {how} sends field '{seg}': its field_exists function "
                    f"is {R.UNKNOWN_C}")
        if f.struct is None or i + 1 >= len(segments) or segments[i + 1] != f.struct.name:
            return None
        desc, i = f.struct, i + 2
    return None
