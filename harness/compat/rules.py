"""The static compatibility rules: one small function per rule, in one table.

The checker (:mod:`vmcompat.compat.checker`) aligns two descriptions and
reports what it meets as *sites* (a device, a description, a matched pair of
fields, a field only one side has, a renamed or reordered field, a gap of
``unused`` bytes, a subsection, a stale ignore). Every rule is registered for
one kind of site and yields zero or more messages; the rule gives the stable
code, the severity and the category of the finding.

Severities: ``error`` (a load fails or loads wrong data), ``warning`` (may
break for some states or for versions not in view), ``info`` (a fact worth
knowing). Categories: ``wire`` (bytes on the legacy wire), ``version``
(version numbers), ``semantics`` (what the bytes mean), ``section`` (how sections
are matched: by wire identity, the VMStateDescription name, not the QOM type),
and ``config`` (the checker's own configuration, e.g. a stale ignore).

>>> RULES["FIELD_REMOVED"].severity, RULES["FIELD_REMOVED"].category
('error', 'wire')
>>> sorted(r.code for r in BY_SITE["section"])
['QOM_TYPE_RENAMED', 'SECTION_MISSING']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from vmcompat.dumps import is_guess, is_unknown_needed, is_unknown_test
from vmcompat.errors import MSG, Reason
from vmcompat.model import Description, Field, Subsection
from vmcompat.predicates import Const, Predicate
from vmcompat.values import immutable
from vmcompat.words import plural

SEVERITIES = ("error", "warning", "info")
CATEGORIES = ("wire", "version", "semantics", "config", "section")


# -- sites: what the checker meets -------------------------------------------------------------
@immutable
class SectionSite:
    """A device (section) of the source; ``dst`` is None when the destination lacks it."""

    kind = "section"
    device: str
    src: Description
    dst: Description | None
    #: the destination's device (QOM type) found by wire identity when it has another name
    dst_device: str = ""


@immutable
class Desc:
    """Two descriptions loaded against each other.

    ``level`` is ``section`` (top level), ``subsection`` (its version travels in
    the subsection header) or ``nested`` (a struct: versions never travel).
    ``version`` is the version the source's stream carries.
    """

    kind = "description"
    src: Description
    dst: Description
    level: str
    version: int
    #: hand-edited dumps may claim other versions for a section than its description's:
    #: the lowest version the source claims, and the lowest the destination claims
    low_version: int | None = None
    local_version: int | None = None

    @property
    def low(self) -> int:
        return self.version if self.low_version is None else self.low_version

    @property
    def local(self) -> int:
        return self.dst.version_id if self.local_version is None else self.local_version


@immutable
class Pair:
    """A field both sides send and read at this stream version (matched by name)."""

    kind = "pair"
    src: Field
    dst: Field
    src_desc: Description
    dst_desc: Description
    version: int       # the stream version the destination reads with
    src_version: int   # the version the source saved with
    level: str = "section"  # of the declaring descriptions: section | subsection | nested
    by_name: bool = True    # False: matched by place (a rename, or tested alternatives)


@immutable
class Presence:
    """A field both sides declare, but only one side has on the wire at this version."""

    kind = "presence"
    src: Field
    dst: Field
    sent: bool
    read: bool
    version: int
    dst_version: int


@immutable
class Orphan:
    """A field only one side has (no field of that name, no rename at its place)."""

    kind = "orphan"
    field: Field
    side: str  # "source" | "destination"
    version: int       # the stream version the destination reads with
    src_version: int   # the version the source saved with
    level: str = "section"  # nested: inside a struct, whose version never travels


@immutable
class Rename:
    """A source field and a destination field at the same place with the same wire type."""

    kind = "rename"
    src: Field
    dst: Field
    src_path: str
    dst_path: str
    moved: bool = False  # same name, moved into or out of a struct


@immutable
class Reorder:
    """A field both sides have, at a different place among the fields both have."""

    kind = "reorder"
    src: Field
    dst: Field
    src_index: int
    dst_index: int


@immutable
class Covered:
    """A field whose bytes the other side skips or writes as ``unused_buffer`` of equal size."""

    kind = "covered"
    field: Field
    side: str  # "source": dropped by the destination; "destination": read from unused bytes


@immutable
class Gap:
    """Unmatched fields around ``unused_buffer`` bytes, with both sides' byte counts."""

    kind = "gap"
    src: tuple[Field, ...]
    dst: tuple[Field, ...]
    src_bytes: int | None
    dst_bytes: int | None


@immutable
class Sub:
    """A subsection the source may send; ``dst`` is the destination's (None if absent)."""

    kind = "subsection"
    parent: Description
    dst_parent: Description
    sub: Subsection
    dst: Subsection | None
    renamed: Subsection | None  # an unmatched destination subsection of the same layout


@immutable
class StaleIgnore:
    """An ignore of the configuration that matched no finding."""

    kind = "ignore"
    index: int
    rule: str | None
    device: str | None
    path: str | None
    reason: str
    file: str


SITE_KINDS = ("section", "description", "pair", "presence", "orphan", "rename", "reorder",
              "covered", "gap", "subsection", "ignore")


# -- the table ---------------------------------------------------------------------------------
@immutable
class Rule:
    """A rule: stable ``code``, fixed severity and category, the site kind it reads."""

    code: str
    severity: str
    category: str
    site: str
    check: Callable[[Any], Iterable[str]]
    doc: str = ""


_REGISTRY: dict[str, Rule] = {}
RULES: Mapping[str, Rule] = MappingProxyType(_REGISTRY)


def rule(code: str, severity: str, category: str, site: str
         ) -> Callable[[Callable[[Any], Iterable[str]]], Callable[[Any], Iterable[str]]]:
    """Register the decorated generator as rule ``code`` for sites of kind ``site``."""
    assert severity in SEVERITIES and category in CATEGORIES and site in SITE_KINDS
    assert code not in _REGISTRY, f"rule {code} registered twice"

    def deco(fn: Callable[[Any], Iterable[str]]) -> Callable[[Any], Iterable[str]]:
        _REGISTRY[code] = Rule(code, severity, category, site, fn,
                               (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        return fn

    return deco


# -- helpers -----------------------------------------------------------------------------------
def never(pred: object) -> bool:
    """A predicate that is the constant False (a field/subsection never sent)."""
    return isinstance(pred, Const) and not pred.value


#: what a QEMU dump cannot tell about a field_exists or needed function
UNKNOWN_C = "C code a QEMU dump does not show"


def pred_text(pred: object) -> str:
    """A short rendering of a predicate, without enclosing parentheses.

    Tests and needed functions imported from a QEMU dump are unknown C
    functions (see :mod:`vmcompat.dumps`) and read as such.

    >>> from vmcompat.predicates import parse
    >>> pred_text(parse({"all": [{"field": "mode", "op": "eq", "value": 2},
    ...                          {"field": "busy", "op": "zero"}]}))
    'mode == 2 and busy == 0'
    """
    if pred is None:
        return "always"
    if isinstance(pred, Predicate) and is_unknown_test(pred):
        return f"its field_exists function says so, {UNKNOWN_C}"
    if isinstance(pred, Predicate) and is_unknown_needed(pred):
        return f"its needed function says so, {UNKNOWN_C}"
    to_json = getattr(pred, "to_json", None)
    if not to_json:
        return repr(pred)
    text = _pj(to_json())
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def when(pred: object) -> str:
    """``always``, ``never`` or ``when …``: how often a field or subsection is sent."""
    text = pred_text(pred)
    return text if text in ("always", "never") else f"when {text}"


def _pj(o: Any) -> str:
    if isinstance(o, bool):
        return "always" if o else "never"
    if isinstance(o, dict):
        if "all" in o:
            return "(" + " and ".join(_pj(p) for p in o["all"]) + ")"
        if "any" in o:
            return "(" + " or ".join(_pj(p) for p in o["any"]) + ")"
        if "not" in o:
            return f"not {_pj(o['not'])}"
        op = o.get("op")
        f = o.get("field")
        return {"eq": f"{f} == {o.get('value')!r}", "ne": f"{f} != {o.get('value')!r}",
                "nonzero": f"{f} != 0", "zero": f"{f} == 0"}.get(str(op), str(o))
    return str(o)


def base_type(f: Field) -> str:
    """The wire kind without load checks: ``"uint16 equal"`` -> ``uint16``; composites as is."""
    t = f.wire_type
    return t.base if t is not None else f.type


def type_text(f: Field) -> str:
    out = f.type
    c = f.composite
    if c is not None and c.sized:
        out += f"<{f.size} bits>" if c.bits else f"[{f.size}]"
    if f.struct is not None:
        out += f" of {f.struct.name}"
    if f.array_len is not None:
        out += f" x{f.array_len}"
    if f.varray is not None:
        out += f" x{f.varray}"
    return out


def element_bytes(f: Field) -> int | None:
    """Wire bytes of one element for non-struct fields (None for structs and lists)."""
    if f.struct is not None:
        return None
    return f.element_size()


def has_struct(f: Field) -> bool:
    return f.struct is not None


def guessed(s: Pair) -> bool:
    """Either side's wire type is a guess from a QEMU dump's C size (see :mod:`vmcompat.dumps`):
    only its element size and whether it is a struct are known."""
    return is_guess(s.src) or is_guess(s.dst)


# -- section -----------------------------------------------------------------------------------
@rule("SECTION_MISSING", "error", "wire", "section")
def section_missing(s: SectionSite) -> Iterator[str]:
    """The destination has no device of this name: the load fails on the section."""
    if s.dst is None:
        yield (f"section '{s.device}' (description '{s.src.name}' version {s.src.version_id}) "
               f"does not exist in the destination: "
               + MSG[Reason.UNKNOWN_SECTION].format(idstr=s.src.name, instance_id=0))


@rule("QOM_TYPE_RENAMED", "info", "section", "section")
def qom_type_renamed(s: SectionSite) -> Iterator[str]:
    """Only the QOM type name differs: the section travels under its VMStateDescription
    name (the idstr), so the destination's device of another name loads it."""
    if s.dst is not None and s.dst_device and s.dst_device != s.device:
        yield (f"QOM type '{s.device}' is '{s.dst_device}' in the destination; the section "
               f"travels as '{s.src.name}' (its VMStateDescription), so QEMU loads it there")


# -- descriptions ------------------------------------------------------------------------------
@rule("VERSION_TOO_NEW", "error", "version", "description")
def version_too_new(s: Desc) -> Iterator[str]:
    """The source's stream version is above the destination's version_id."""
    if s.level != "nested" and s.version > s.local:
        yield MSG[Reason.TOO_NEW].format(got=s.version, local=s.local)


@rule("MINIMUM_ABOVE_SOURCE", "error", "version", "description")
def minimum_above_source(s: Desc) -> Iterator[str]:
    """The destination's minimum_version_id is above the source's stream version."""
    if (s.level != "nested" and s.low < s.dst.minimum_version_id
            and s.dst.marshal_for(s.low) is None):
        yield MSG[Reason.TOO_OLD].format(got=s.low, local=s.dst.minimum_version_id)


@rule("LEGACY_LOADER", "info", "version", "description")
def legacy_loader(s: Desc) -> Iterator[str]:
    """A stream version below the minimum is loaded by a registered marshal function."""
    if s.level != "nested" and s.version < s.dst.minimum_version_id:
        name = s.dst.marshal_for(s.version)
        if name is not None:
            yield (f"version {s.version} streams are loaded by marshal function {name!r}: "
                   f"fields not compared statically")


@rule("DESCRIPTION_RENAMED", "error", "wire", "description")
def description_renamed(s: Desc) -> Iterator[str]:
    """A section's description name changed: the name travels as the section's idstr."""
    if s.level == "section" and s.src.name != s.dst.name:
        yield (f"description '{s.src.name}' is '{s.dst.name}' in the destination: the "
               f"section idstr '{s.src.name}' is unknown there")


@rule("STRUCT_RENAMED", "info", "semantics", "description")
def struct_renamed(s: Desc) -> Iterator[str]:
    """A nested struct's description name changed (names of nested structs never travel)."""
    if s.level == "nested" and s.src.name != s.dst.name:
        yield f"nested description '{s.src.name}' is '{s.dst.name}' in the destination"


# -- matched fields ----------------------------------------------------------------------------
@rule("FIELD_SIZE_CHANGED", "error", "wire", "pair")
def field_size_changed(s: Pair) -> Iterator[str]:
    """A field's element takes a different number of bytes on the wire."""
    a, b = element_bytes(s.src), element_bytes(s.dst)
    if guessed(s) and (s.src.wire_size() == s.dst.wire_size() or (
            is_guess(s.src) and a == s.dst.wire_size()) or (
            is_guess(s.dst) and b == s.src.wire_size())):
        return  # a dump's C size may be an element's or a whole custom field's
    if a is not None and b is not None and a != b:
        yield (f"field '{s.src.name}' size mismatch: {plural(a, 'byte')} ({type_text(s.src)}) "
               f"-> {plural(b, 'byte')} ({type_text(s.dst)})")


@rule("FIELD_TYPE_CHANGED", "error", "semantics", "pair")
def field_type_changed(s: Pair) -> Iterator[str]:
    """Same size on the wire, different type: the bytes are read with another meaning."""
    if guessed(s):
        return
    a, b = base_type(s.src), base_type(s.dst)
    if a == b or {a, b} <= {"qtailq", "qlist"} or has_struct(s.src) != has_struct(s.dst):
        return
    ea, eb = element_bytes(s.src), element_bytes(s.dst)
    if ea is not None and eb is not None and ea != eb:
        return  # FIELD_SIZE_CHANGED says it
    yield f"field '{s.src.name}' type changed: {type_text(s.src)} -> {type_text(s.dst)}"


@rule("ARRAY_LENGTH_CHANGED", "error", "wire", "pair")
def array_length_changed(s: Pair) -> Iterator[str]:
    """A fixed array's length changed (or a scalar became a fixed array)."""
    if guessed(s):
        return
    if s.src.varray is None and s.dst.varray is None:
        a, b = s.src.array_len, s.dst.array_len
        if (1 if a is None else a) != (1 if b is None else b):
            yield (f"field '{s.src.name}' array length changed: "
                   f"{'scalar' if a is None else a} -> {'scalar' if b is None else b}")


@rule("VARRAY_COUNT_CHANGED", "error", "wire", "pair")
def varray_count_changed(s: Pair) -> Iterator[str]:
    """A variable array's count field changed, or a fixed array became variable (or back)."""
    if guessed(s):
        return
    a, b = s.src.varray, s.dst.varray
    if a != b and (a is not None or b is not None):
        def what(f: Field) -> str:
            if f.varray is not None:
                return f"counted by '{f.varray}'"
            return "scalar" if f.array_len is None else f"fixed length {f.array_len}"

        yield f"field '{s.src.name}' element count: {what(s.src)} -> {what(s.dst)}"


@rule("VARRAY_COUNT_TYPE_CHANGED", "error", "wire", "pair")
def varray_count_type_changed(s: Pair) -> Iterator[str]:
    """The count field of a variable array changed type."""
    a, b = s.src.varray, s.dst.varray
    if a is not None and a == b:
        try:
            ta, tb = s.src_desc.field(a).type, s.dst_desc.field(b).type
        except KeyError:
            return
        if ta != tb:
            yield f"field '{s.src.name}' is counted by '{a}', whose type changed: {ta} -> {tb}"


@rule("POINTER_CHANGED", "error", "wire", "pair")
def pointer_changed(s: Pair) -> Iterator[str]:
    """An array of values became an array of pointers (NULL = one 0x30 byte) or back."""
    if guessed(s):
        return
    if s.src.pointer != s.dst.pointer:
        def what(f: Field) -> str:
            return "array of pointers" if f.pointer else "array of values"

        yield f"field '{s.src.name}': {what(s.src)} -> {what(s.dst)}"


@rule("MARKER_CHANGED", "error", "wire", "pair")
def marker_changed(s: Pair) -> Iterator[str]:
    """A list's framing (marker bytes, marker field, sentinel) changed."""
    if s.src.is_list and s.dst.is_list and s.src.list_marker != s.dst.list_marker:
        yield (f"list '{s.src.name}' framing changed: {s.src.list_marker.to_json()} -> "
               f"{s.dst.list_marker.to_json()}")


@rule("GTREE_KEY_CHANGED", "error", "wire", "pair")
def gtree_key_changed(s: Pair) -> Iterator[str]:
    """A GTree's key type changed (another scalar type, or a scalar key vs a struct key)."""
    a, b = s.src.key, s.dst.key
    if not (s.src.is_tree and s.dst.is_tree):
        return
    if isinstance(a, str) or isinstance(b, str):
        if a != b:
            def what(k: object) -> str:
                return k if isinstance(k, str) else f"struct {getattr(k, 'name', k)}"

            yield f"gtree '{s.src.name}' key changed: {what(a)} -> {what(b)}"


@rule("NESTED_DESCRIPTION_MISSING", "error", "wire", "pair")
def nested_description_missing(s: Pair) -> Iterator[str]:
    """One side has a nested description for the field, the other does not."""
    if has_struct(s.src) != has_struct(s.dst):
        if has_struct(s.src):
            yield (f"field '{s.src.name}': missing description (source: {type_text(s.src)}, "
                   f"destination: {type_text(s.dst)})")
        else:
            yield (f"field '{s.src.name}': the destination expects a nested description "
                   f"(source: {type_text(s.src)}, destination: {type_text(s.dst)})")


@rule("FIELD_TEST_CHANGED", "error", "wire", "pair")
def field_test_changed(s: Pair) -> Iterator[str]:
    """The field's exists-test differs: sent and read under different conditions."""
    a, b = s.src.exists, s.dst.exists
    if a != b and not (is_unknown_test(a) and is_unknown_test(b)) and (
            s.by_name or not (is_unknown_test(a) or is_unknown_test(b))):
        if a is None:
            yield (f"field '{s.src.name}' is always sent by the source, but the destination "
                   f"reads it only {when(b)}")
        elif b is None:
            yield (f"field '{s.src.name}' is sent only {when(a)}, but the destination always "
                   f"reads it")
        else:
            yield (f"field '{s.src.name}' is sent {when(a)}, but the destination reads it "
                   f"{when(b)}")


@rule("FIELD_TEST_UNKNOWN", "warning", "wire", "pair")
def field_test_unknown(s: Pair) -> Iterator[str]:
    """Tested alternatives of a QEMU dump: a field matched by place (not by name) whose
    field_exists function (unknown C code) one side has and the other does not."""
    a, b = s.src.exists, s.dst.exists
    if (not s.by_name and (is_unknown_test(a) or is_unknown_test(b))
            and not (is_unknown_test(a) and is_unknown_test(b))):
        if is_unknown_test(b):
            side, other = "destination", f"the source sends it {when(a)}"
        else:
            side, other = "source", f"the destination reads it {when(b)}"
        yield (f"field '{s.src.name}' has a field_exists function in the {side}, {UNKNOWN_C}; "
               f"{other}: compatible only if that function agrees")


@rule("FIELD_VERSION_MOVED", "warning", "version", "pair")
def field_version_moved(s: Pair) -> Iterator[str]:
    """Both sides carry the field at this version, but its version_id differs."""
    a, b = s.src.version_id, s.dst.version_id
    if a != b and s.level != "nested" and s.src.exists is None and s.dst.exists is None:
        lo, hi = min(a, b), max(a, b)
        affected = [v for v in range(max(lo, s.dst_desc.minimum_version_id), hi)
                    if v <= s.version]
        if affected:
            yield (f"field '{s.src.name}' version_id {a} -> {b}: streams of version "
                   f"{_span(affected)} disagree on whether it is sent")


def _span(vs: list[int]) -> str:
    return str(vs[0]) if len(vs) == 1 else f"{vs[0]}..{vs[-1]}"


def _checked(f: Field) -> str | None:
    t = f.wire_type
    return None if t is None else t.check


@rule("DEFAULT_CHANGED", "warning", "semantics", "pair")
def default_changed(s: Pair) -> Iterator[str]:
    """The value a field takes when absent from the stream changed."""
    if s.src.default != s.dst.default and _checked(s.dst) is None:
        yield f"field '{s.src.name}' default changed: {s.src.default!r} -> {s.dst.default!r}"


@rule("EQUAL_VALUE_CHANGED", "error", "semantics", "pair")
def equal_value_changed(s: Pair) -> Iterator[str]:
    """The value an ``equal`` field must have (or an ``le`` field's bound) is not the source's."""
    a, b = s.src.default, s.dst.default
    ta, tb = s.src.wire_type, s.dst.wire_type
    if ta is None or tb is None:
        return
    if tb.must_match and ta.must_match and a != b:
        yield (f"field '{s.src.name}' must equal the destination's {b!r}, but the source "
               f"sends {a!r}: " + MSG[Reason.EQUAL].format(got=_int(a), local=_int(b)))
    elif (tb.capped and ta.capped and isinstance(a, int)
          and isinstance(b, int) and b < a):
        yield (f"field '{s.src.name}' must be <= {b} in the destination, but the source "
               f"allows up to {a}")


def _int(v: object) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


@rule("EQUAL_FIELD", "warning", "semantics", "pair")
def equal_field(s: Pair) -> Iterator[str]:
    """The destination checks the incoming value against its own (equal / le)."""
    a, b = s.src.wire_type, s.dst.wire_type
    if b is not None and b.check is not None and (a is None or a.check != b.check):
        yield (f"field '{s.src.name}' is '{b.name}' in the destination: the incoming value "
               f"must {b.demand} the destination's own, or the load is refused")


@rule("BROKEN_FIELD", "info", "semantics", "pair")
def broken_field(s: Pair) -> Iterator[str]:
    """A field is marked broken (known not to migrate correctly)."""
    sides = [n for n, f in (("source", s.src), ("destination", s.dst)) if f.broken]
    if sides:
        yield f"field '{s.src.name}' is marked broken in the {' and '.join(sides)}"


# -- presence ----------------------------------------------------------------------------------
@rule("FIELD_VERSION_CHANGED", "error", "version", "presence")
def field_version_changed(s: Presence) -> Iterator[str]:
    """At this stream version one side has the field on the wire and the other not."""
    if not (s.src.on_wire and s.dst.on_wire):
        return
    if s.sent and not s.read:
        yield (f"field '{s.src.name}' is sent in version {s.version} streams but the "
               f"destination reads it only from version {s.dst.version_id}")
    elif s.read and not s.sent:
        yield (f"field '{s.src.name}' is expected by the destination at version "
               f"{s.dst_version} but the source sends it only from version {s.src.version_id}")


@rule("ON_WIRE_CHANGED", "error", "wire", "presence")
def on_wire_changed(s: Presence) -> Iterator[str]:
    """A field became immutable/derived (off the wire) on one side only."""
    if s.src.on_wire != s.dst.on_wire and (s.sent or s.read):
        side = "destination" if s.src.on_wire else "source"
        yield (f"field '{s.src.name}' is not on the wire in the {side} "
               f"(immutable or derived) but is on the other side")


# -- orphans, renames, order, unused -----------------------------------------------------------
@rule("FIELD_REMOVED", "error", "wire", "orphan")
def field_removed(s: Orphan) -> Iterator[str]:
    """The source sends a field the destination does not have."""
    if s.side == "source" and not never(s.field.exists):
        sent = "" if s.field.exists is None else f" {when(s.field.exists)},"
        yield (f"field '{s.field.name}' ({type_text(s.field)}) is sent{sent} but the "
               f"destination has no such field")


@rule("FIELD_ADDED_UNVERSIONED", "error", "version", "orphan")
def field_added_unversioned(s: Orphan) -> Iterator[str]:
    """The destination reads a field that streams of this version do not carry."""
    if s.side == "destination" and s.field.exists is None and s.level == "nested":
        yield (f"field '{s.field.name}' ({type_text(s.field)}) is read inside a struct the "
               f"source sends without it: struct versions never travel, so a new struct field "
               f"needs a field_exists test on the stream version (or a subsection)")
    elif s.side == "destination" and s.field.exists is None:
        yield (f"field '{s.field.name}' ({type_text(s.field)}, version_id "
               f"{s.field.version_id}) is read at version {s.version}, but the source's "
               f"version {s.src_version} stream does not carry it: give it a version_id "
               f"above {s.src_version} (and bump the description)")


@rule("FIELD_ADDED_TESTED", "warning", "wire", "orphan")
def field_added_tested(s: Orphan) -> Iterator[str]:
    """The destination reads a new field when its test holds; the source never sends it."""
    if s.side == "destination" and s.field.exists is not None and not never(s.field.exists):
        yield (f"field '{s.field.name}' is read {when(s.field.exists)}, but the source never "
               f"sends it: safe only if the test is false for every state the source sends")


@rule("FIELD_RENAMED", "warning", "semantics", "rename")
def field_renamed(s: Rename) -> Iterator[str]:
    """A field has another name at the same place, with the same wire type."""
    if s.moved:
        yield (f"field '{s.src_path}' is '{s.dst_path}' in the destination (moved into or out "
               f"of a struct; the bytes stay in place)")
    else:
        yield (f"field '{s.src_path}' is '{s.dst_path}' in the destination (same place and "
               f"wire type)")


@rule("FIELD_REORDERED", "error", "wire", "reorder")
def field_reordered(s: Reorder) -> Iterator[str]:
    """A field both sides have is at another place among the common fields."""
    yield (f"field '{s.src.name}' moved: position {s.src_index} in the source, "
           f"{s.dst_index} in the destination")


@rule("FIELD_DROPPED", "info", "semantics", "covered")
def field_dropped(s: Covered) -> Iterator[str]:
    """The destination skips the field's bytes as ``unused_buffer``: its value is dropped."""
    if s.side == "source":
        yield f"field '{s.field.name}' is skipped as unused bytes by the destination"


@rule("FIELD_FROM_UNUSED", "warning", "semantics", "covered")
def field_from_unused(s: Covered) -> Iterator[str]:
    """The destination reads a field from bytes the source writes as zeros (unused)."""
    if s.side == "destination":
        yield f"field '{s.field.name}' is read from bytes the source writes as unused zeros"


@rule("UNUSED_SIZE_CHANGED", "error", "wire", "gap")
def unused_size_changed(s: Gap) -> Iterator[str]:
    """Unused bytes do not cover the fields they replace (or the other way round)."""
    if s.src_bytes is None or s.dst_bytes is None or s.src_bytes != s.dst_bytes:
        def names(fs: tuple[Field, ...]) -> str:
            return ", ".join(f.name for f in fs) or "nothing"

        def n(b: int | None) -> str:
            return "a variable number of bytes" if b is None else plural(b, "byte")

        yield (f"unused size mismatch: the source sends {n(s.src_bytes)} for {names(s.src)}, "
               f"the destination reads {n(s.dst_bytes)} for {names(s.dst)}")


# -- subsections -------------------------------------------------------------------------------
@rule("SUBSECTION_MISSING", "error", "wire", "subsection")
def subsection_missing(s: Sub) -> Iterator[str]:
    """The source may send a subsection the destination does not have."""
    if s.dst is None and s.renamed is None:
        sent = f"; the source sends it {when(s.sub.needed)}"
        yield MSG[Reason.UNKNOWN_SUBSECTION].format(sub=s.sub.name, name=s.dst_parent.name) + sent


@rule("SUBSECTION_RENAMED", "error", "wire", "subsection")
def subsection_renamed(s: Sub) -> Iterator[str]:
    """A subsection the source may send has another name (same layout) in the destination."""
    if s.dst is None and s.renamed is not None:
        yield (f"subsection '{s.sub.name}' is '{s.renamed.name}' in the destination: "
               + MSG[Reason.UNKNOWN_SUBSECTION].format(sub=s.sub.name, name=s.dst_parent.name))


@rule("SUBSECTION_PREFIX", "error", "wire", "subsection")
def subsection_prefix(s: Sub) -> Iterator[str]:
    """A subsection name must start with the destination parent's name, or loading stops."""
    p = s.dst_parent.name
    if not (s.sub.name.startswith(p) and len(s.sub.name) > len(p)):
        yield (f"subsection '{s.sub.name}' does not start with '{p}': the destination stops "
               f"reading subsections there and the rest of the stream is misread")


# -- configuration -----------------------------------------------------------------------------
@rule("IGNORE_UNUSED", "warning", "config", "ignore")
def ignore_unused(s: StaleIgnore) -> Iterator[str]:
    """An ignore in the configuration matched no finding: remove it."""
    what = ", ".join(f"{k}={v!r}" for k, v in (("rule", s.rule), ("device", s.device),
                                               ("path", s.path)) if v is not None)
    yield f"ignore #{s.index} in {s.file} matched no finding: {what}; its reason: {s.reason}"


#: rules by the kind of site they read, in registration order
BY_SITE: Mapping[str, tuple[Rule, ...]] = MappingProxyType(
    {k: tuple(r for r in _REGISTRY.values() if r.site == k) for k in SITE_KINDS})

assert all(BY_SITE[k] for k in SITE_KINDS), "every site kind has a rule"
