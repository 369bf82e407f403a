"""The configuration section (machine types 2.4 and newer).

On the wire: ``0x07``, then the payload of QEMU's ``configuration`` VMSD:
be32 length + machine-type name, then its subsections (page bits,
capabilities, uuid) when they were needed. No section header, no footer.

>>> from vmcompat.stream.source import Source
>>> c = read_configuration(Source(bytes.fromhex("00000003") + b"pc1"))
>>> c.machine, write_configuration(c).hex()
('pc1', '00000003706331')
"""

from __future__ import annotations

from vmcompat.dsl import buffer, device, struct_array, subsection, uint8, uint32
from vmcompat.dumps import unknown_needed
from vmcompat.formats.legacy import decode_from
from vmcompat.model import SUBSECTIONS_KEY
from vmcompat.stream.devices import encode_payload
from vmcompat.stream.model import Configuration
from vmcompat.stream.source import Source

_CAPABILITY = device("capability", 1, uint8("len"), uint8("name", varray="len"))

#: QEMU's ``vmstate_configuration`` without its two leading fields (read by hand:
#: the name is a length-prefixed buffer). Its subsections are sent when needed
#: (the stream says which); their ``needed`` is unknown, as for a dump's.
CONFIGURATION_DESC = device(
    "configuration", 1,
    subsections=[subsection(d, unknown_needed(d.name)) for d in (
        device("configuration/target-page-bits", 1, uint32("target_page_bits")),
        device("configuration/capabilities", 1, uint32("caps_count"),
               struct_array("capabilities", _CAPABILITY, varray="caps_count")),
        device("configuration/uuid", 1, buffer("uuid", 16)),
    )])


def read_configuration(src: Source) -> Configuration:
    n = src.be32("configuration.len")
    name = bytes(src.take(n, "configuration.name")).decode("latin-1")
    state, src.pos = decode_from(CONFIGURATION_DESC, src.data, CONFIGURATION_DESC.version_id,
                                 None, src.pos, src.end)
    return Configuration(name, dict(state.get(SUBSECTIONS_KEY) or {}))


def write_configuration(c: Configuration) -> bytes:
    raw = c.machine.encode("latin-1")
    state = {SUBSECTIONS_KEY: dict(c.subsections)} if c.subsections else {}
    return len(raw).to_bytes(4, "big") + raw + encode_payload(CONFIGURATION_DESC, state)
