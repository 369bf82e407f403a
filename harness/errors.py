"""One error hierarchy.

``VmcompatError`` is the root. ``InputError`` is bad input (exit 2).
``LoadError`` is a refused load (exit 1); its subclasses carry a typed
:class:`Reason`, the device, the field path and the byte offset, and their
messages mirror QEMU's wording where QEMU has one.
"""

from __future__ import annotations

from enum import Enum

from vmcompat.words import WORDS

Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    """``("a", 2, "b")`` -> ``"a[2].b"``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _name(device: object) -> str:
    """A device name as printed: whatever a hostile file gave (``true``, ``1.5``) is text."""
    return "" if device is None else str(device)


class VmcompatError(Exception):
    """Root of every error vmcompat raises on purpose."""


class InputError(VmcompatError, ValueError):
    """Malformed input: a description, state, golden, argument or file (exit 2)."""

    def __init__(self, message: str, *, file: str | None = None, device: str | None = None,
                 path: Path = ()) -> None:
        self.file, self.device, self.path, self.bare = file, device, path, message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        device = _name(self.device)
        if device:
            loc = device + (f".{dotted(self.path)}" if self.path else "")
            where.append(loc)
        elif self.path:
            where.append(dotted(self.path))
        return (": ".join(where) + ": " if where else "") + self.bare

    def located(self, *, file: str | None = None, device: str | None = None) -> InputError:
        """Fill in the file/device if not known yet (errors are born without location)."""
        self.file = self.file or file
        self.device = self.device or device
        self.args = (self._render(),)
        return self


class Reason(str, Enum):
    TOO_NEW = "too_new"
    TOO_OLD = "too_old"
    UNKNOWN_SUBSECTION = "unknown_subsection"
    EQUAL = "equal_mismatch"
    LE = "le_violation"
    NULLPTR = "nullptr_marker"
    TRUNCATED = "truncated"
    TRAILING = "trailing_data"
    BAD_MARKER = "bad_marker"
    BAD_VALUE = "bad_value"
    UNKNOWN_SECTION = "unknown_section"
    TYPE_MISMATCH = "type_mismatch"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    BAD_STREAM = "bad_stream"


#: QEMU's words, one table (like QERR_*); a noun as a field's format spec counts it
#: (``{count:byte}`` -> ``1 byte``, see :mod:`vmcompat.words`).
MSG: dict[Reason, str] = {
    Reason.TOO_NEW: "incoming version_id {got} is too new for local version_id {local}",
    Reason.TOO_OLD: "incoming version_id {got} is too old for local minimum version_id {local}",
    Reason.UNKNOWN_SUBSECTION: "VM subsection '{sub}' in '{name}' does not exist",
    Reason.EQUAL: "{got:x} != {local:x}",
    Reason.LE: "Invalid value {got} expecting positive value <= {local}",
    Reason.NULLPTR: "get_nullptr expected VMS_NULLPTR_MARKER",
    Reason.TRUNCATED: "unexpected end of data: need {need:byte}, {have} left",
    Reason.TRAILING: "{count:byte} left after the last field",
    Reason.BAD_MARKER: "unexpected list marker 0x{got:02x}",
    Reason.BAD_VALUE: "{detail}",
    Reason.UNKNOWN_SECTION: "Unknown savevm section or instance '{idstr}' {instance_id}",
    Reason.TYPE_MISMATCH: "type mismatch: {detail}",
    Reason.UNKNOWN_FIELD: "unknown must-understand attribute '{field}'",
    Reason.MISSING_FIELD: "{detail}",
    Reason.BAD_STREAM: "{detail}",
}


def message(reason: Reason, **params: object) -> str:
    """QEMU's words for a refusal (:data:`MSG`), filled in."""
    return WORDS.format(MSG[reason], **params)


class LoadError(VmcompatError):
    """A load that must fail. Not frozen: ``add_note()`` must work."""

    reason: Reason = Reason.BAD_VALUE

    def __init__(self, reason: Reason | None = None, *, device: str = "", path: Path = (),
                 offset: int | None = None, **params: object) -> None:
        if reason is not None:
            self.reason = reason
        self.device, self.path, self.offset, self.params = device, path, offset, params
        self.message = message(self.reason, **params)
        super().__init__(self._render())

    def _render(self) -> str:
        device = _name(self.device)
        loc = device + (("." if device else "") + dotted(self.path) if self.path else "")
        at = f" @{self.offset}" if self.offset is not None else ""
        return f"{loc}{at}: {self.message}" if (loc or at) else self.message

    def line(self) -> str:
        """The message and its notes (``add_note``) on one line, as a command prints it."""
        notes = getattr(self, "__notes__", None)
        return str(self) + (f" ({'; '.join(notes)})" if notes else "")

    def at(self, *, device: str | None = None, prefix: Path = ()) -> LoadError:
        """Locate an error raised deeper (jsonschema's ``descend`` on the way up)."""
        if device and not self.device:
            self.device = device
        self.path = prefix + self.path
        self.args = (self._render(),)
        return self


#: reason -> the LoadError subclass raised for it
BY_REASON: dict[Reason, type[LoadError]] = {}


def _sub(name: str, reason: Reason) -> type[LoadError]:
    cls = BY_REASON[reason] = type(name, (LoadError,), {"reason": reason, "__doc__": MSG[reason]})
    return cls


VersionTooNew = _sub("VersionTooNew", Reason.TOO_NEW)
VersionTooOld = _sub("VersionTooOld", Reason.TOO_OLD)
UnknownSubsection = _sub("UnknownSubsection", Reason.UNKNOWN_SUBSECTION)
EqualMismatch = _sub("EqualMismatch", Reason.EQUAL)
LeViolation = _sub("LeViolation", Reason.LE)
NullPointerMismatch = _sub("NullPointerMismatch", Reason.NULLPTR)
Truncated = _sub("Truncated", Reason.TRUNCATED)
TrailingData = _sub("TrailingData", Reason.TRAILING)
BadMarker = _sub("BadMarker", Reason.BAD_MARKER)
BadValue = _sub("BadValue", Reason.BAD_VALUE)
UnknownSection = _sub("UnknownSection", Reason.UNKNOWN_SECTION)
TypeMismatch = _sub("TypeMismatch", Reason.TYPE_MISMATCH)
UnknownField = _sub("UnknownField", Reason.UNKNOWN_FIELD)
MissingField = _sub("MissingField", Reason.MISSING_FIELD)
StreamError = _sub("StreamError", Reason.BAD_STREAM)

ERRORS: dict[Reason, type[LoadError]] = {
    cls.reason: cls
    for cls in (VersionTooNew, VersionTooOld, UnknownSubsection, EqualMismatch, LeViolation,
                NullPointerMismatch, Truncated, TrailingData, BadMarker, BadValue,
                UnknownSection, TypeMismatch, UnknownField, MissingField, StreamError)
}
assert set(ERRORS) == set(Reason), "every Reason has its error class"
