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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: public name -> the module under vmcompat.stream that defines it (imported on first use,
#: so ``stream decode`` does not load ``verify`` or ``writer``)
_HOMES = {
    **dict.fromkeys(("from_document", "to_document"), "document"),
    **dict.fromkeys(("LAYOUTS", "Layout", "for_machine"), "layout"),
    **dict.fromkeys(("Command", "Configuration", "Eos", "MemSize", "PageRun", "Pages",
                     "Section", "Stream", "Vmdesc", "ZeroRun"), "model"),
    **dict.fromkeys(("find_vmdesc", "read_stream"), "reader"),
    "open_source": "source",
    "verify": "verify",
    **dict.fromkeys(("to_bytes", "write_stream"), "writer"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "LAYOUTS", "Command", "Configuration", "Eos", "Layout", "MemSize", "PageRun", "Pages",
    "Section", "Stream", "Vmdesc", "ZeroRun", "find_vmdesc", "for_machine", "from_document",
    "open_source", "read_stream", "to_bytes", "to_document", "verify", "write_stream",
]
