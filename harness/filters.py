"""Migration filters: registered tree transforms between device types/versions.

A :class:`Filter` turns a decoded state of one device (type, versions) into
the state a destination device expects. :func:`chain` finds the transform for
a (source, destination) pair; ``vmcompat fuzz`` and the matrix apply it
between save and load. Transforms are small composable functions
``State -> State`` (never mutating their input):

>>> t = compose(rename_fields({"a": "b"}), move(("b",), ("inner", "b")))
>>> t({"a": 1, "c": 2})
{'c': 2, 'inner': {'b': 1}}

One device into two (virtio-blk-pci -> virtio-pci + virtio-blk) is kept
one-to-one for :func:`chain`: the destination is a *combined description*
(:func:`combined`, named ``"virtio-pci+virtio-blk"``) whose fields are one
struct per device, named by the device, so the filter's result is *keyed by
device* and is exactly a state of the combined description. Subsections of
each part stay under that part's ``__subsections__``. Catalog histories of
combined devices: :func:`combined_history`. Merging (two into one) is the
inverse filter from the combined description.

Built-in filters (:data:`FILTERS`): ``kvm-apic->apic`` and ``apic->kvm-apic``
(rename the device: its subsections' names change prefix),
``virtio-blk-pci->virtio-pci+virtio-blk`` (split) and its inverse (merge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from vmcompat.catalog.virtio_blk import BLK_PART, PCI_PART
from vmcompat.model import SUBSECTIONS_KEY, Description, DeviceHistory, Field
from vmcompat.values import immutable

State = dict[str, Any]
Transform = Callable[[State], State]


@immutable
class Filter:
    """``apply(state) -> state`` from ``source`` (device name) to ``destination``."""

    name: str
    source: str
    destination: str
    apply: Transform
    source_versions: tuple[int, ...] | None = None  # None: every version
    destination_versions: tuple[int, ...] | None = None
    doc: str = ""

    def matches(self, src: Description, dst: Description) -> bool:
        return (src.name == self.source and dst.name == self.destination
                and (self.source_versions is None or src.version_id in self.source_versions)
                and (self.destination_versions is None
                     or dst.version_id in self.destination_versions))


_REGISTRY: dict[str, Filter] = {}
FILTERS: Mapping[str, Filter] = MappingProxyType(_REGISTRY)


def register(f: Filter) -> Filter:
    _REGISTRY[f.name] = f
    return f


def chain(src: Description, dst: Description) -> Transform | None:
    """The transform from ``src``'s state to ``dst``'s, or None when no filter applies."""
    found = [f for f in _REGISTRY.values() if f.matches(src, dst)]
    if not found:
        return None
    return compose(*(f.apply for f in found))


# ----------------------------------------------------------------------------- vocabulary
def compose(*transforms: Transform) -> Transform:
    """Apply ``transforms`` left to right."""
    if len(transforms) == 1:
        return transforms[0]

    def run(state: State) -> State:
        for t in transforms:
            state = t(state)
        return state

    return run


def rename_fields(mapping: Mapping[str, str]) -> Transform:
    """Rename top-level fields (``{"old": "new"}``); absent ones are left alone.

    >>> rename_fields({"a": "b"})({"a": 1, "c": 2})
    {'b': 1, 'c': 2}
    """
    table = dict(mapping)

    def run(state: State) -> State:
        return {table.get(k, k): v for k, v in state.items()}

    return run


def _take(state: State, path: Sequence[str]) -> tuple[State, Any, bool]:
    """A copy of ``state`` without the value at ``path`` (copied along the path), the value."""
    out = dict(state)
    if len(path) == 1:
        if path[0] not in out:
            return out, None, False
        return out, out.pop(path[0]), True
    inner = out.get(path[0])
    if not isinstance(inner, dict):
        return out, None, False
    out[path[0]], value, found = _take(inner, path[1:])
    return out, value, found


def _place(state: State, path: Sequence[str], value: Any) -> State:
    out = dict(state)
    if len(path) == 1:
        out[path[0]] = value
    else:
        inner = out.get(path[0])
        out[path[0]] = _place(inner if isinstance(inner, dict) else {}, path[1:], value)
    return out


def move(src: Sequence[str], dst: Sequence[str]) -> Transform:
    """Move the value at path ``src`` (names; ``__subsections__`` allowed) to ``dst``.

    >>> move(("s", "x"), ("x",))({"s": {"x": 1, "y": 2}})
    {'s': {'y': 2}, 'x': 1}
    """

    def run(state: State) -> State:
        out, value, found = _take(state, src)
        return _place(out, dst, value) if found else out

    return run


def split_field(name: str, parts: Mapping[str, Callable[[Any], Any]]) -> Transform:
    """Replace field ``name`` by several, each computed from its value.

    >>> split_field("w", {"lo": lambda v: v & 0xFF, "hi": lambda v: v >> 8})({"w": 0x1234})
    {'lo': 52, 'hi': 18}
    """

    def run(state: State) -> State:
        if name not in state:
            return dict(state)
        out = {k: v for k, v in state.items() if k != name}
        out.update({new: fn(state[name]) for new, fn in parts.items()})
        return out

    return run


def merge_fields(names: Sequence[str], into: str, fn: Callable[..., Any]) -> Transform:
    """Replace fields ``names`` by ``into = fn(*values)`` (only when all are present).

    >>> merge_fields(("lo", "hi"), "w", lambda lo, hi: lo | hi << 8)({"lo": 0x34, "hi": 0x12})
    {'w': 4660}
    """

    def run(state: State) -> State:
        if not all(n in state for n in names):
            return dict(state)
        out = {k: v for k, v in state.items() if k not in names}
        out[into] = fn(*(state[n] for n in names))
        return out

    return run


def rename_subsections(old_prefix: str, new_prefix: str) -> Transform:
    """Rename subsections (at any depth) whose full name starts with ``old_prefix``."""

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: fix(v) for k, v in value.items() if k != SUBSECTIONS_KEY}
            subs = value.get(SUBSECTIONS_KEY)
            if isinstance(subs, dict):
                out[SUBSECTIONS_KEY] = {
                    (new_prefix + k[len(old_prefix):] if k.startswith(old_prefix) else k): fix(v)
                    for k, v in subs.items()}
            return out
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix


def rename_device(old: str, new: str) -> Transform:
    """A device renamed: the state is the same, subsection names ``old/...`` become ``new/...``.

    >>> rename_device("kvm-apic", "apic")({"id": 1, "__subsections__": {"kvm-apic/sipi": {}}})
    {'id': 1, '__subsections__': {'apic/sipi': {}}}
    """
    return rename_subsections(old + "/", new + "/")


def split_device(parts: Mapping[str, Iterable[str]],
                 subsections: Mapping[str, tuple[str, str]] = MappingProxyType({})) -> Transform:
    """One device's state -> a state keyed by device (a :func:`combined` description's).

    ``parts`` maps each new device to the fields it takes; ``subsections`` maps an
    old subsection name to (new device, new subsection name).

    >>> split_device({"p": ["a"], "q": ["b"]}, {"d/s": ("q", "q/s")})(
    ...     {"a": 1, "b": 2, "__subsections__": {"d/s": {"x": 3}}})
    {'p': {'a': 1}, 'q': {'b': 2, '__subsections__': {'q/s': {'x': 3}}}}
    """
    table = {dev: tuple(names) for dev, names in parts.items()}
    subs = dict(subsections)

    def run(state: State) -> State:
        out: State = {dev: {n: state[n] for n in names if n in state}
                      for dev, names in table.items()}
        for old, sub in (state.get(SUBSECTIONS_KEY) or {}).items():
            dev, new = subs[old]
            out[dev].setdefault(SUBSECTIONS_KEY, {})[new] = sub
        return out

    return run


def merge_devices(parts: Mapping[str, Iterable[str]],
                  subsections: Mapping[str, tuple[str, str]] = MappingProxyType({})) -> Transform:
    """The inverse of :func:`split_device` with the same arguments (two devices into one).

    >>> merge_devices({"p": ["a"], "q": ["b"]}, {"d/s": ("q", "q/s")})(
    ...     {"p": {"a": 1}, "q": {"b": 2, "__subsections__": {"q/s": {"x": 3}}}})
    {'a': 1, 'b': 2, '__subsections__': {'d/s': {'x': 3}}}
    """
    table = {dev: tuple(names) for dev, names in parts.items()}
    back = {(dev, new): old for old, (dev, new) in subsections.items()}

    def run(state: State) -> State:
        out: State = {}
        merged: State = {}
        for dev, names in table.items():
            part = state.get(dev) or {}
            out.update({n: part[n] for n in names if n in part})
            for new, sub in (part.get(SUBSECTIONS_KEY) or {}).items():
                merged[back[(dev, new)]] = sub
        if merged:
            out[SUBSECTIONS_KEY] = merged
        return out

    return run


# ----------------------------------------------------------------------------- combined devices
def combined(*descs: Description, name: str | None = None) -> Description:
    """One description holding several devices, one struct field per device (named by it).

    Its version is the highest of the parts' (part versions never travel: they are
    nested structs); its minimum the highest of their minimums.

    >>> from vmcompat.dsl import device, uint8
    >>> c = combined(device("p", 1, uint8("a")), device("q", 2, uint8("b")))
    >>> c.name, c.version_id, [f.name for f in c.fields]
    ('p+q', 2, ['p', 'q'])
    """
    return Description(name or "+".join(d.name for d in descs),
                       max(d.version_id for d in descs),
                       max(d.minimum_version_id for d in descs),
                       tuple(Field(d.name, "struct", struct=d) for d in descs),
                       doc="combined: " + ", ".join(d.name for d in descs))


def combined_history(*histories: DeviceHistory) -> DeviceHistory:
    """The combined device over the versions every part has."""
    common = sorted(set.intersection(*(set(h.version_ids) for h in histories)))
    return DeviceHistory("+".join(h.name for h in histories),
                         tuple(combined(*(h.at(v) for h in histories)) for v in common),
                         doc="combined: " + ", ".join(h.name for h in histories))


# ----------------------------------------------------------------------------- built-ins
VIRTIO_SPLIT = {"virtio-pci": PCI_PART, "virtio-blk": BLK_PART}
VIRTIO_SUBSECTIONS = {"virtio-blk-pci/modern_state": ("virtio-pci", "virtio-pci/modern_state")}
VIRTIO_COMBINED = "virtio-pci+virtio-blk"

for _a, _b in (("kvm-apic", "apic"), ("apic", "kvm-apic")):
    register(Filter(f"{_a}->{_b}", _a, _b, rename_device(_a, _b),
                    doc=f"{_a} and {_b} share vmstate_apic_common: same state, renamed"))
register(Filter(f"virtio-blk-pci->{VIRTIO_COMBINED}", "virtio-blk-pci", VIRTIO_COMBINED,
                split_device(VIRTIO_SPLIT, VIRTIO_SUBSECTIONS),
                doc="one virtio-blk-pci section -> the virtio-pci proxy + the virtio-blk backend"))
register(Filter(f"{VIRTIO_COMBINED}->virtio-blk-pci", VIRTIO_COMBINED, "virtio-blk-pci",
                merge_devices(VIRTIO_SPLIT, VIRTIO_SUBSECTIONS),
                doc="virtio-pci + virtio-blk -> one virtio-blk-pci section"))
