"""Stream layouts per machine-type era, each derived from the next newer one.

QEMU 7.2 saves every machine type with its own binary, but older machine
types turn parts of the stream off: no configuration section and no section
footers before 2.4, no vmdesc for 2.0–2.2 (1.4–1.7 have one again).

>>> for_machine("pc-i440fx-2.1").name, for_machine("pc-q35-7.2").footers
('2.0', True)
"""

from __future__ import annotations

import re
from types import MappingProxyType

from vmcompat.errors import InputError
from vmcompat.loadrules import SUBSECTION as SUBSECTION_BYTE
from vmcompat.values import immutable, replace

MAGIC = 0x5145564D  # "QEVM"
VERSION = 3

#: section type bytes (QEMU_VM_*)
EOF = 0x00
START = 0x01
PART = 0x02
END = 0x03
FULL = 0x04
SUBSECTION = SUBSECTION_BYTE
VMDESCRIPTION = 0x06
CONFIGURATION = 0x07
COMMAND = 0x08
FOOTER = 0x7E

#: section type byte -> name used in stream documents
SECTION_NAMES = MappingProxyType({START: "start", PART: "part", END: "end", FULL: "full",
                                  COMMAND: "command"})
SECTION_TYPES = MappingProxyType({v: k for k, v in SECTION_NAMES.items()})


@immutable(slots=True)
class Layout:
    """What a stream of one machine-type era carries."""

    name: str
    configuration: bool
    footers: bool
    vmdesc: bool


LAYOUT_2_4 = Layout("2.4", configuration=True, footers=True, vmdesc=True)
LAYOUT_2_3 = replace(LAYOUT_2_4, name="2.3", configuration=False, footers=False)
LAYOUT_2_0 = replace(LAYOUT_2_3, name="2.0", vmdesc=False)
LAYOUT_1_4 = replace(LAYOUT_2_0, name="1.4", vmdesc=True)

#: era name -> layout, oldest first; an era starts at the machine version of its name
LAYOUTS = MappingProxyType({x.name: x for x in (LAYOUT_1_4, LAYOUT_2_0, LAYOUT_2_3, LAYOUT_2_4)})

_VERSION = re.compile(r"-(\d+)\.(\d+)$")


def _key(v: str) -> tuple[int, int]:
    a, b = v.split(".")
    return int(a), int(b)


def for_machine(machine: str) -> Layout:
    """The layout QEMU 7.2 uses for a machine type (``pc-i440fx-2.3``, ``pc-q35-7.2``).

    A machine type without a version (``pc``, ``q35``, ``isapc``) is the newest.
    """
    m = _VERSION.search(machine)
    if m is None:
        return LAYOUT_2_4
    v = (int(m.group(1)), int(m.group(2)))
    era = LAYOUT_1_4
    for name, layout in LAYOUTS.items():
        if v >= _key(name):
            era = layout
    return era


def by_name(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise InputError(f"unknown stream layout {name!r} (known: {', '.join(LAYOUTS)})") \
            from None
