"""Descriptions from QEMU: ``-dump-vmstate`` JSON and a stream's vmdesc JSON.

Two file kinds, two halves of the truth:

* A **dump** (``qemu-system-x86_64 -dump-vmstate FILE``) knows every field of
  every device type: versions, minimum versions, field versions, which fields
  have a ``field_exists`` test, nested descriptions, all subsections. It knows
  **no wire types**, and its ``size`` is the C element size, not the wire size
  (fdc ``fifo`` says 1 but is 512 bytes on the wire; an array's length is not
  in the dump at all).
* A **vmdesc** (the JSON after ``0x06`` at the end of a stream) knows what was
  actually sent: wire types, sizes, array lengths, the subsections sent. It
  knows no minimum versions, no field versions and no tests.

:func:`merge` puts the two together where both exist: versions, minimum
versions, field versions and tests from the dump; wire types from the vmdesc.
A dump field without a test that the vmdesc does not show was a variable
array with no elements in that stream: it becomes an array of length 0.

Keys: :func:`from_dump` returns descriptions by device *type* (``isa-fdc``;
the description is named after the VMSD, ``fdc``); :func:`from_vmdesc` by
section (``idstr``, or ``idstr#instance`` for instance > 0). Both register a
loader, so ``vmcompat.sources.load_all(path)`` reads either file. A vmdesc
alone gives ``minimum_version_id = version_id`` (it knows one version only).

What a dump alone gives (:func:`from_dump`), stated plainly:

* a field with a nested ``Description`` becomes a ``struct`` of that
  description (one element: the dump does not say whether it is an array);
* a field named ``unused`` (QEMU's ``VMSTATE_UNUSED``) becomes an
  ``unused_buffer`` of ``size`` bytes;
* **every other field becomes a ``buffer`` of ``size`` bytes. This is a guess**:
  it is exact for ``uint8``/``uint16``/… scalars' byte counts, wrong for arrays
  (size is per element) and for fields whose wire form differs from memory.
  Such fields have ``provenance.guessed``; :func:`is_guess` tells.

Unknown tests, and how they are represented (for the checker):

* ``field_exists`` is a C function vmcompat cannot see. A field that has one
  gets ``exists = {"field": "__test__<field>", "op": OP}``: the test's outcome is
  read from a pseudo-field ``__test__<field>`` of the state. ``OP`` is
  ``"nonzero"`` (absent unless the state says so) for dump-only fields and for
  merged fields the vmdesc did not show, and ``"ne", "value": false`` (present
  unless the state says otherwise) for merged fields the vmdesc shows were sent,
  so a merged description decodes the stream it came from.
  :func:`has_unknown_test` answers "does this field have a test?"
  (``field_exists`` in :func:`to_dump` is exactly ``field.exists is not None``).
  The pseudo-fields are not fields of the description: state JSON validated by
  :mod:`vmcompat.state` cannot set them, so they always take their default.
* A dump subsection's ``needed`` function is unknown too: it gets
  ``needed = {"field": "__needed__<subsection>", "op": "nonzero"}``
  (:func:`has_unknown_needed`). vmdesc subsections get the same predicate: a
  vmdesc says what *was* sent, not when.

Names: QEMU makes repeated field names unique in a vmdesc as ``name[k]``
(``unused[0]``, ``unused[1]``, ``config[0]``); imports from both kinds apply
that same rule, so the two match, and :func:`to_dump` strips it again.
Elements of a non-compressible array (vmdesc ``index`` entries) become one
array field; when the element structs differ only in the subsections sent,
their subsections are united in order. Elements that differ otherwise stay
separate fields named ``name#i``.

The C size of a dump field and the name QEMU gave it are kept in its ``provenance``
(a compared attribute, :class:`vmcompat.model.Provenance`) so that
``to_dump(from_dump(x)) == x``.

>>> d = from_dump({"rtc": {"Name": "rtc", "version_id": 3, "minimum_version_id": 1,
...     "Description": {"name": "mc146818rtc", "version_id": 3, "minimum_version_id": 1,
...     "Fields": [{"field": "cmos_index", "version_id": 0, "field_exists": False,
...                 "size": 1}]}}})["rtc"]
>>> d.name, d.fields[0].type, d.fields[0].size, is_guess(d.fields[0])
('mc146818rtc', 'buffer', 1, True)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from vmcompat.errors import InputError
from vmcompat.loaders import Loader, register_loader
from vmcompat.model import SUBSECTIONS_KEY, Description, Field, Provenance, Subsection
from vmcompat.predicates import Cmp, Predicate
from vmcompat.types import TYPES
from vmcompat.values import immutable, replace

TEST_PREFIX = "__test__"
NEEDED_PREFIX = "__needed__"
NO_FIELDS_DOC = "dump: no Fields list"
EMPTY_DOC = "not in the vmdesc although it has no test: an array of 0 elements there"
MACHINE_KEY = "vmschkmachine"
#: a vmdesc array longer than this is refused (plans compile fixed arrays into formats)
MAX_ARRAY_LEN = 1 << 20


# ----------------------------------------------------------------------------- predicates
def unknown_test(field: str, *, default: bool = False) -> Predicate:
    """The ``exists`` of a field with a ``field_exists`` test vmcompat cannot see."""
    if default:
        return Cmp(TEST_PREFIX + field, "ne", False)
    return Cmp(TEST_PREFIX + field, "nonzero")


def unknown_needed(subsection: str) -> Predicate:
    """The ``needed`` of a subsection whose C ``needed`` function is unknown."""
    return Cmp(NEEDED_PREFIX + subsection, "nonzero")


def as_captured(desc: Description, state: Any) -> Any:
    """A decoded state that, saved with ``desc``, sends what the capture sent.

    A QEMU description does not know when its subsections are needed (C code): the
    state of a section decoded from a real stream says which were sent, and this
    sets their ``__needed__`` pseudo-fields so that a writer sends the same ones, at
    every level (nested structs and their elements have subsections too). Fields
    with unknown tests already follow the capture (see the module docstring).
    """
    if not isinstance(state, dict):
        return state
    out = dict(state)
    held = state.get(SUBSECTIONS_KEY)
    if held:
        subs = {}
        for sub in desc.held_subsections(held):
            if has_unknown_needed(sub):
                out[NEEDED_PREFIX + sub.name] = 1
            subs[sub.name] = as_captured(sub.description, held[sub.name])
        out[SUBSECTIONS_KEY] = subs
    for f in desc.fields:
        if f.struct is None or f.name not in state:
            continue
        value = state[f.name]
        if isinstance(value, list):
            out[f.name] = [as_captured(f.struct, v) for v in value]
        else:
            out[f.name] = as_captured(f.struct, value)
    return out


def is_unknown_test(pred: Predicate | None) -> bool:
    """True if ``pred`` is (or reads) a ``field_exists`` test imported from QEMU."""
    return pred is not None and any(n.startswith(TEST_PREFIX) for n in pred.reads())


def has_unknown_test(f: Field) -> bool:
    """True if ``f`` has a ``field_exists`` test imported from QEMU (outcome unknown)."""
    return is_unknown_test(f.exists)


def has_unknown_needed(s: Subsection) -> bool:
    return is_unknown_needed(s.needed)


def is_unknown_needed(pred: Predicate | None) -> bool:
    """True if ``pred`` is (or reads) a ``needed`` function imported from QEMU."""
    return pred is not None and any(n.startswith(NEEDED_PREFIX) for n in pred.reads())


def is_guess(f: Field) -> bool:
    """True if ``f``'s wire type is a guess from a dump's C size."""
    return f.provenance is not None and f.provenance.guessed


def c_size(f: Field) -> int | None:
    """The C element size a dump gave for ``f``, if it came from a dump."""
    return None if f.provenance is None else f.provenance.c_size


def _unique_names(names: list[str]) -> list[str]:
    """QEMU's ``vmfield_name_num`` rule: repeated names become ``name[k]``."""
    total: dict[str, int] = {}
    for n in names:
        total[n] = total.get(n, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if total[n] > 1:
            k = seen.get(n, 0)
            seen[n] = k + 1
            out.append(f"{n}[{k}]")
        else:
            out.append(n)
    return out


def _qemu_name(f: Field) -> str:
    """The name QEMU gave a field (before the uniqueness suffix an import added)."""
    p = f.provenance
    return f.name if p is None or p.qemu_name is None else p.qemu_name


def _where(file: str | None, device: str | None) -> Callable[[str], InputError]:
    return lambda msg: InputError(msg, file=file, device=device)


def _get(obj: Any, key: str, kind: type | tuple[type, ...], bad: Callable[[str], InputError],
         where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], kind) \
            or (kind is int and isinstance(obj[key], bool)):
        raise bad(f"{where}: expected {key!r}")
    return obj[key]


# ----------------------------------------------------------------------------- dump import
def is_dump(obj: Any, *, lenient: bool = False) -> bool:
    """A ``-dump-vmstate`` document: device types → {Name, version_id, Description}.

    ``lenient`` (as QEMU's own checker reads dumps): an entry may lack its
    ``Description`` if it has a ``version_id``; at least one entry is needed.
    """
    if not isinstance(obj, dict) or not obj:
        return False
    entries = [v for k, v in obj.items() if k != MACHINE_KEY]
    keys = ("Description", "version_id") if lenient else ("Description",)
    return (bool(entries) or (MACHINE_KEY in obj and not lenient)) and all(
        isinstance(v, dict) and "Name" in v and any(k in v for k in keys) for v in entries)


def dump_machine(obj: Mapping[str, Any]) -> str | None:
    """The machine type a dump was made with (``vmschkmachine``)."""
    m = obj.get(MACHINE_KEY)
    return m.get("Name") if isinstance(m, dict) else None


def from_dump(obj: Any, file: str | None = None) -> dict[str, Description]:
    """Every device type of a dump, by type name (``isa-fdc``), as a Description."""
    if not is_dump(obj):
        raise InputError("not a QEMU -dump-vmstate document", file=file)
    out: dict[str, Description] = {}
    for key, entry in obj.items():
        if key == MACHINE_KEY:
            continue
        bad = _where(file, key)
        try:
            d = _dump_desc(_get(entry, "Description", dict, bad, key), bad)
        except RecursionError:
            raise bad("descriptions nested too deeply") from None
        if _get(entry, "version_id", int, bad, key) != d.version_id:
            raise bad(f"{key}: version_id differs from its Description's")
        out[key] = d
    return out


def _dump_desc(o: Any, bad: Callable[[str], InputError]) -> Description:
    name = _get(o, "name", str, bad, "Description")
    version = _get(o, "version_id", int, bad, name)
    minimum = _get(o, "minimum_version_id", int, bad, name)
    raw = o.get("Fields", [])
    if not isinstance(raw, list):
        raise bad(f"{name}: Fields must be a list")
    given = [_get(f, "field", str, bad, name) for f in raw]
    fields = tuple(_dump_field(f, n, bad, name, g)
                   for f, n, g in zip(raw, _unique_names(given), given))
    subs = _subsections(o.get("Subsections", []), "Subsections", _dump_desc, bad, name)
    try:
        return Description(name, version, min(minimum, version), fields, tuple(subs),
                           doc="" if "Fields" in o else NO_FIELDS_DOC)
    except InputError as e:
        raise e.located(device=name) from None


def _dump_field(o: Any, name: str, bad: Callable[[str], InputError], owner: str,
                given: str) -> Field:
    where = f"{owner}.{name}"
    version = _get(o, "version_id", int, bad, where)
    size = _get(o, "size", int, bad, where)
    test = o.get("field_exists", False)
    if not isinstance(test, bool):
        raise bad(f"{where}: field_exists must be true/false")
    exists = unknown_test(name) if test else None
    known = Provenance(c_size=size, qemu_name=None if name == given else given)
    if "Description" in o:
        nested = _dump_desc(o["Description"], bad)
        return Field(name, "struct", version_id=version, exists=exists, struct=nested,
                     provenance=known)
    if given == "unused":
        return Field(name, "unused_buffer", version_id=version, exists=exists,
                     size=max(size, 0), provenance=known)
    return Field(name, "buffer", version_id=version, exists=exists, size=max(size, 0),
                 provenance=replace(known, guessed=True))


# ----------------------------------------------------------------------------- dump export
def to_dump(descs: Mapping[str, Description], machine: str | None = None) -> dict[str, Any]:
    """The ``-dump-vmstate`` form of descriptions keyed by device type name."""
    out: dict[str, Any] = {}
    for key, d in descs.items():
        out[key] = {"Name": key, "version_id": d.version_id,
                    "minimum_version_id": d.minimum_version_id, "Description": _desc_dump(d)}
    if machine is not None:
        out[MACHINE_KEY] = {"Name": machine}
    return out


def _desc_dump(d: Description) -> dict[str, Any]:
    out: dict[str, Any] = {"name": d.name, "version_id": d.version_id,
                           "minimum_version_id": d.minimum_version_id}
    if d.fields or NO_FIELDS_DOC not in d.doc:
        out["Fields"] = [_field_dump(f, _qemu_name(f)) for f in d.fields]
    if d.subsections:
        out["Subsections"] = [_desc_dump(s.description) for s in d.subsections]
    return out


def _field_dump(f: Field, name: str) -> dict[str, Any]:
    size = c_size(f)
    if size is None:
        size = f.element_size() or 0
    out: dict[str, Any] = {"field": name, "version_id": f.version_id,
                           "field_exists": f.exists is not None, "size": size}
    if f.is_struct:
        assert f.struct is not None
        out["Description"] = _desc_dump(f.struct)
    return out


# ----------------------------------------------------------------------------- vmdesc import
@immutable
class VmdescEntry:
    """One device of a vmdesc, in stream order. ``description`` is None for an
    old-style device (no VMStateDescription: its payload is opaque)."""

    name: str
    instance_id: int
    description: Description | None
    raw: Mapping[str, Any]

    @property
    def key(self) -> str:
        """``name`` for instance 0, else ``name#instance``."""
        return self.name if self.instance_id == 0 else f"{self.name}#{self.instance_id}"


def is_vmdesc(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("devices"), list) and "page_size" in obj


def vmdesc_entries(obj: Any, file: str | None = None) -> list[VmdescEntry]:
    """The devices of a vmdesc in order, each with its description (if it has a vmsd)."""
    if not is_vmdesc(obj):
        raise InputError("not a vmdesc (expected page_size and a devices list)", file=file)
    return list(device_entries(obj["devices"], file))


#: the keys a compact entry keeps of its vmdesc device (see :func:`device_entries`)
IDENTITY_KEYS = ("name", "instance_id", "vmsd_name", "version")


def device_entries(devices: Iterable[Any], file: str | None = None, *,
                   keep_raw: bool = True) -> Iterator[VmdescEntry]:
    """Entries of a vmdesc's ``devices`` list, read one device at a time.

    With ``keep_raw=False`` an entry's ``raw`` keeps only the device's
    :data:`IDENTITY_KEYS`, so a vmdesc read device by device is never held whole.
    """
    seen: dict[str, Description] = {}  # equal devices share one description (and its plans)
    for i, dev in enumerate(devices):
        bad = _where(file, dev.get("name") if isinstance(dev, dict) else None)
        name = _get(dev, "name", str, bad, f"devices[{i}]")
        inst = _get(dev, "instance_id", int, bad, name)
        desc = None
        if "vmsd_name" in dev:
            try:
                key = json.dumps([dev.get(k) for k in ("vmsd_name", "version", "fields",
                                                       "subsections")])
                desc = seen.get(key)
                if desc is None:
                    desc = seen[key] = _vmdesc_desc(dev, bad)
            except RecursionError:
                raise bad("descriptions nested too deeply") from None
        raw = dev if keep_raw else {k: dev[k] for k in IDENTITY_KEYS if k in dev}
        yield VmdescEntry(name, inst, desc, MappingProxyType(raw))


def from_vmdesc(obj: Any, file: str | None = None) -> dict[str, Description]:
    """Descriptions of a vmdesc keyed by section (``name`` or ``name#instance``)."""
    return {e.key: e.description for e in vmdesc_entries(obj, file)
            if e.description is not None}


def _subsections(raw: Any, key: str, read: Callable[[Any, Callable[[str], InputError]],
                                                     Description],
                 bad: Callable[[str], InputError], name: str) -> list[Subsection]:
    """Subsections of a dump or vmdesc entry; neither says when they are needed."""
    if not isinstance(raw, list):
        raise bad(f"{name}: {key} must be a list")
    return [Subsection(d, unknown_needed(d.name)) for d in (read(s, bad) for s in raw)]


def _vmdesc_desc(o: Any, bad: Callable[[str], InputError]) -> Description:
    name = _get(o, "vmsd_name", str, bad, "struct")
    version = _get(o, "version", int, bad, name)
    fields = tuple(_vmdesc_fields(o.get("fields", []), bad, name))
    subs = _subsections(o.get("subsections", []), "subsections", _vmdesc_desc, bad, name)
    try:
        return Description(name, version, version, fields, tuple(subs))
    except InputError as e:
        raise e.located(device=name) from None


def _vmdesc_fields(raw: Any, bad: Callable[[str], InputError], owner: str) -> list[Field]:
    if not isinstance(raw, list):
        raise bad(f"{owner}: fields must be a list")
    out: list[Field] = []
    i = 0
    while i < len(raw):
        o = raw[i]
        fname = _get(o, "name", str, bad, owner)
        if "index" in o:  # a non-compressible array: one entry per element
            if o["index"] != 0:
                raise bad(f"{owner}.{fname}: array element index {o['index']!r}, expected 0")
            j = i
            while j < len(raw) and isinstance(raw[j], dict) and raw[j].get("name") == fname \
                    and raw[j].get("index") == j - i:
                j += 1
            if j < len(raw) and _unindexed_last(raw[j], fname) and o.get("index") == 0:
                j += 1  # QEMU 9.1+ writes the last element of such an array without "index"
            out.extend(_elements(fname, _indexed(raw[i:j], fname, bad, owner)))
            i = j
            continue
        out.append(_vmdesc_field(o, fname, bad, owner))
        i += 1
    return out


def _indexed(raw: list[Any], name: str, bad: Callable[[str], InputError], owner: str
             ) -> list[Field]:
    """The fields of an indexed array's entries; an entry equal to the one before it but
    for its ``index`` shares that one's field (read once: arrays of structs are big)."""
    out: list[Field] = []
    last: Any = None
    for o in raw:
        bare = {k: v for k, v in o.items() if k != "index"}
        out.append(out[-1] if bare == last else _vmdesc_field(o, name, bad, owner))
        last = bare
    return out


def _unindexed_last(o: Any, name: str) -> bool:
    """The last element of an indexed array as QEMU 9.1 and newer describe it.

    They pass the elements left (``n - i``) where the array length belongs, so the
    last element counts as "not an array" and gets neither ``index`` nor
    ``array_len``. Repeated field names are made unique (``name[k]``), so an entry
    of the same name right after the indexed run can only be that element.
    """
    return isinstance(o, dict) and o.get("name") == name and "index" not in o \
        and "array_len" not in o


def _elements(name: str, elems: list[Field]) -> list[Field]:
    """Per-element vmdesc entries as one array field, or separate fields if they differ."""
    first = elems[0]
    if len(elems) == 1:
        return [first]
    if first.struct is not None and all(e.struct is not None for e in elems):
        shared = {id(e.struct): e.struct for e in elems if e.struct is not None}
        bare = [s.evolve(subsections=()) for s in shared.values()]
        if all(b == bare[0] for b in bare):
            subs = _union_subsections([e.struct.subsections for e in elems
                                       if e.struct is not None])
            struct = first.struct.evolve(subsections=subs)
            return [Field(name, first.type, struct=struct, array_len=len(elems),
                          provenance=first.provenance, doc=first.doc)]
    elif all(e == first for e in elems):
        return [Field(name, first.type, size=first.size, struct=first.struct,
                      array_len=len(elems), provenance=first.provenance, doc=first.doc)]
    return [Field(f"{name}#{k}", e.type, size=e.size, struct=e.struct, array_len=e.array_len,
                  provenance=e.provenance, doc=e.doc) for k, e in enumerate(elems)]


def _union_subsections(lists: list[tuple[Subsection, ...]]) -> tuple[Subsection, ...]:
    """Subsections of several elements, in an order consistent with each element's.

    A name not seen yet goes just before the next name of its own list that is
    already placed (or at the end).
    """
    out: list[Subsection] = []
    for subs in lists:
        for i, s in enumerate(subs):
            names = [x.name for x in out]
            if s.name in names:
                continue
            later = [names.index(t.name) for t in subs[i + 1:] if t.name in names]
            out.insert(later[0] if later else len(out), s)
    return tuple(out)


FieldMaker = Callable[[str, dict[str, Any], Callable[[str], InputError], str], dict[str, Any]]


def _scalar(type_name: str) -> FieldMaker:
    def make(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
             owner: str) -> dict[str, Any]:
        return {"type": type_name}
    return make


def _sized(type_name: str) -> FieldMaker:
    def make(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
             owner: str) -> dict[str, Any]:
        size = _get(o, "size", int, bad, f"{owner}.{name}")
        return {"type": type_name, "size": max(size, 0)}
    return make


def _struct(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
            owner: str) -> dict[str, Any]:
    return {"type": "struct", "struct": _vmdesc_desc(_get(o, "struct", dict, bad, name), bad)}


def _tmp(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
         owner: str) -> dict[str, Any]:
    # VMSTATE_WITH_TMP: the temporary's description is written inline in the field
    return {"type": "struct", "struct": _vmdesc_desc(o, bad)}


def _pci_irq_state(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
                   owner: str) -> dict[str, Any]:
    return {"type": "int32", "array_len": 4}  # PCI_NUM_PINS × be32


def _bitmap(name: str, o: dict[str, Any], bad: Callable[[str], InputError],
            owner: str) -> dict[str, Any]:
    size = _get(o, "size", int, bad, f"{owner}.{name}")
    return {"type": "bitmap", "size": max(size, 0) * 8}  # written as be64 words


#: vmdesc type name -> how to build the field (unknown types: a buffer of ``size``).
VMDESC_TYPES: Mapping[str, FieldMaker] = MappingProxyType({
    **{t: _scalar(t) for t in TYPES},
    "buffer": _sized("buffer"),
    "unused_buffer": _sized("unused_buffer"),
    "pci config": _sized("buffer"),
    # old-style put functions whose bytes the vmdesc only counts: the MSI-X table and
    # pending bits, and virtio_save's blob (its nested state is saved without a vmdesc)
    "msix state": _sized("buffer"),
    "virtio": _sized("buffer"),
    "pci irq state": _pci_irq_state,
    "bitmap": _bitmap,
    "struct": _struct,
    "tmp": _tmp,
})


_UNKNOWN = _sized("buffer")  # a type the table lacks: a buffer of its size


def _vmdesc_field(o: dict[str, Any], name: str, bad: Callable[[str], InputError],
                  owner: str) -> Field:
    type_name = _get(o, "type", str, bad, f"{owner}.{name}")
    maker = VMDESC_TYPES.get(type_name, _UNKNOWN)
    kw = maker(name, o, bad, owner)
    n = o.get("array_len")
    if n is not None:
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_ARRAY_LEN:
            raise bad(f"{owner}.{name}: bad array_len {n!r} (0..{MAX_ARRAY_LEN})")
        if "array_len" in kw:  # an array of arrays (pci irq state): flatten
            kw["array_len"] *= n
        else:
            kw["array_len"] = n
    doc = "" if type_name in VMDESC_TYPES else f"vmdesc type {type_name!r} read as a buffer"
    try:
        return Field(name, doc=doc, **kw)
    except InputError as e:
        raise e.located(device=owner) from None


# ----------------------------------------------------------------------------- merge
def merge(dump: Description, vmdesc: Description) -> Description:
    """One description from a dump's and a vmdesc's view of the same VMSD.

    Versions, minimum versions, field versions and tests come from the dump;
    wire types, sizes and array lengths from the vmdesc. Dump fields the
    vmdesc lacks (tests that were false) keep their dump form.
    """
    if dump.name != vmdesc.name:
        raise InputError(f"cannot merge {dump.name!r} with vmdesc of {vmdesc.name!r}")
    if vmdesc.version_id != dump.version_id:
        raise InputError(f"vmdesc version {vmdesc.version_id} != dump version "
                         f"{dump.version_id}", device=dump.name)
    sent = {f.name: f for f in vmdesc.fields}
    matched = {f.name for f in dump.fields if f.name in sent}
    fields: list[Field] = []
    pending = [f for f in vmdesc.fields]
    for f in dump.fields:
        w = sent.get(f.name)
        if w is None:
            # no test, yet not sent: a variable array that had no elements in this stream
            fields.append(f if f.exists is not None or f.is_array else Field(
                f.name, f.type, version_id=f.version_id, array_len=0, size=f.size,
                struct=f.struct, provenance=f.provenance,
                doc="; ".join(x for x in (f.doc, EMPTY_DOC) if x)))
            continue
        while pending and pending[0].name != f.name:  # vmdesc-only fields before this one
            g = pending.pop(0)
            if g.name not in matched:
                fields.append(g)
        if pending:
            pending.pop(0)
        fields.append(_merge_field(f, w))
    fields.extend(g for g in pending if g.name not in matched)
    subs: list[Subsection] = []
    for s in dump.subsections:
        v = vmdesc.subsection(s.name)
        subs.append(s if v is None else Subsection(merge(s.description, v.description), s.needed))
    subs.extend(s for s in vmdesc.subsections if dump.subsection(s.name) is None)
    return dump.evolve(fields=tuple(fields), subsections=tuple(subs))


def _merge_field(d: Field, w: Field) -> Field:
    exists = d.exists
    if has_unknown_test(d):
        exists = unknown_test(d.name, default=True)  # the vmdesc shows it was sent
    struct = w.struct
    if d.struct is not None and w.struct is not None and d.struct.name == w.struct.name:
        try:
            struct = merge(d.struct, w.struct)
        except InputError:
            struct = w.struct
    doc = "; ".join(x for x in (d.doc, w.doc) if x)
    known = None if d.provenance is None else replace(d.provenance, guessed=False)
    return Field(d.name, w.type, version_id=d.version_id, exists=exists, array_len=w.array_len,
                 varray=w.varray, size=w.size, struct=struct, key=w.key, pointer=w.pointer,
                 provenance=known, doc=doc)


def merge_all(dump: Mapping[str, Description], vmdesc: Mapping[str, Description]
              ) -> dict[str, Description]:
    """Merge every vmdesc description with the dump description of the same VMSD name."""
    by_vmsd: dict[str, Description] = {}
    for d in dump.values():
        by_vmsd.setdefault(d.name, d)
    return {k: (merge(by_vmsd[v.name], v) if v.name in by_vmsd else v)
            for k, v in vmdesc.items()}


# ----------------------------------------------------------------------------- loaders
DUMP_LOADER = register_loader(Loader("qemu-dump", is_dump, from_dump))
VMDESC_LOADER = register_loader(Loader("vmdesc", is_vmdesc, from_vmdesc))

__all__ = [
    "DUMP_LOADER", "NEEDED_PREFIX", "TEST_PREFIX", "VMDESC_LOADER", "VMDESC_TYPES",
    "VmdescEntry", "as_captured", "c_size", "dump_machine", "from_dump", "from_vmdesc",
    "has_unknown_needed", "has_unknown_test", "is_dump", "is_guess", "is_unknown_needed",
    "is_unknown_test",
    "is_vmdesc", "merge", "merge_all", "to_dump", "unknown_needed", "unknown_test",
    "vmdesc_entries",
]
