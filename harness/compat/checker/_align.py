"""One device, one direction: align two descriptions' fields and run the rules."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from vmcompat.compat import directions as D
from vmcompat.compat import rules as R
from vmcompat.compat.checker._results import MAX_DEPTH, Claims, Finding, render_path
from vmcompat.errors import InputError
from vmcompat.model import Description, Field
from vmcompat.values import immutable, replace


@immutable
class _Item:
    """A field as seen at one level: possibly from inside an opened struct."""

    field: Field
    names: tuple[str, ...]     # field names from the compared description
    display: tuple[str, ...]   # path segments (with nested description names)
    present: bool              # on the wire at this stream version
    desc: Description          # the description declaring the field
    nested: bool = False       # comes from an opened struct


def _unused(f: Field) -> bool:
    return not f.in_state


def _openable(f: Field) -> bool:
    """A plain struct whose fields sit inline on the wire (no array, test, subsections)."""
    return (f.is_struct and f.struct is not None and not f.is_array and not f.pointer
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


def _dsig(d: Description | None) -> Any:
    """The wire signature of a description: field layout without names."""
    return None if d is None else d.fold(_dsig_step)


def _dsig_step(d: Description, inner: Callable[[Description], Any]) -> Any:
    return (tuple(_sig(f, inner) for f in d.fields_at(d.version_id) if f.on_wire),
            tuple((s.name, inner(s.description)) for s in d.subsections))


def _sig(f: Field, inner: Callable[[Description], Any] | None = None) -> Any:
    """The wire signature of a field (``inner``: its nested descriptions' signatures)."""
    inner = inner or _dsig
    key = inner(f.key) if isinstance(f.key, Description) else f.key
    return (R.base_type(f), R.element_bytes(f), f.array_len, f.varray is not None, f.pointer,
            f.exists is not None, None if f.struct is None else inner(f.struct), key,
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


