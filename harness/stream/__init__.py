"""Whole savevm streams: header, configuration, sections, RAM, footers, vmdesc.

* :mod:`~vmcompat.stream.layout` — section type bytes and the layout of each
  machine-type era (``LAYOUT_2_3 = replace(LAYOUT_2_4, …)``);
* :mod:`~vmcompat.stream.source` — bounded reading (every length checked first);
* :mod:`~vmcompat.stream.ram` — RAM records, summarised as runs;
* :mod:`~vmcompat.stream.devices` — which description decodes which section;
* :mod:`~vmcompat.stream.reader` / :mod:`~vmcompat.stream.writer` — framing;
* :mod:`~vmcompat.stream.document` — the JSON document (page bytes in a sidecar);
* :mod:`~vmcompat.stream.verify` — strict checks QEMU does not make.

>>> from vmcompat.stream import read_stream, to_bytes
>>> data = bytes.fromhex("5145564d00000003" "00")   # header, EOF: the smallest stream
>>> s = read_stream(data)
>>> (s.layout.name, s.sections, to_bytes(s) == data)
('2.0', (), True)
"""

from vmcompat.stream.document import from_document, to_document
from vmcompat.stream.layout import LAYOUTS, Layout, for_machine
from vmcompat.stream.model import (
    Command,
    Configuration,
    Eos,
    MemSize,
    PageRun,
    Pages,
    Section,
    Stream,
    Vmdesc,
    ZeroRun,
)
from vmcompat.stream.reader import find_vmdesc, read_stream
from vmcompat.stream.source import open_source
from vmcompat.stream.verify import verify
from vmcompat.stream.writer import to_bytes, write_stream

__all__ = [
    "LAYOUTS", "Command", "Configuration", "Eos", "Layout", "MemSize", "PageRun", "Pages",
    "Section", "Stream", "Vmdesc", "ZeroRun", "find_vmdesc", "for_machine", "from_document",
    "open_source", "read_stream", "to_bytes", "to_document", "verify", "write_stream",
]
