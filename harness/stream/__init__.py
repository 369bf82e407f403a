"""Whole savevm streams: header, configuration, sections, RAM, footers, vmdesc.

* :mod:`~harness.stream.layout` — section type bytes and the layout of each
  machine-type era (``LAYOUT_2_3 = replace(LAYOUT_2_4, …)``);
* :mod:`~harness.stream.source` — bounded reading (every length checked first);
* :mod:`~harness.stream.ram` — RAM records, summarised as runs;
* :mod:`~harness.stream.devices` — which description decodes which section;
* :mod:`~harness.stream.reader` / :mod:`~harness.stream.writer` — framing;
* :mod:`~harness.stream.document` — the JSON document (page bytes in a sidecar);
* :mod:`~harness.stream.verify` — strict checks QEMU does not make.

>>> from harness.stream import read_stream, to_bytes
>>> data = bytes.fromhex("5145564d00000003" "00")   # header, EOF: the smallest stream
>>> s = read_stream(data)
>>> (s.layout.name, s.sections, to_bytes(s) == data)
('2.0', (), True)
"""

from harness.stream.document import from_document, to_document
from harness.stream.layout import LAYOUTS, Layout, for_machine
from harness.stream.model import (
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
from harness.stream.reader import find_vmdesc, read_stream
from harness.stream.source import open_source
from harness.stream.verify import verify
from harness.stream.writer import to_bytes, write_stream

__all__ = [
    "LAYOUTS", "Command", "Configuration", "Eos", "Layout", "MemSize", "PageRun", "Pages",
    "Section", "Stream", "Vmdesc", "ZeroRun", "find_vmdesc", "for_machine", "from_document",
    "open_source", "read_stream", "to_bytes", "to_document", "verify", "write_stream",
]
