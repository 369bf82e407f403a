"""Limits on input, in one place: what vmcompat refuses up front as bad input (exit 2).

Everything else vmcompat does with an input costs work and memory in proportion to
the bytes actually present, never to a length or count the input merely declares
(a 4-byte length of 2**31 in a 100-byte stream is a truncation, found at once). The
limits below bound what cannot be measured against data: the shape of a description,
and the bytes an encoder would invent (``unused_buffer`` padding). Each is far above
what a real QEMU produces; the figure in brackets is the largest seen in QEMU 7.2's
``-dump-vmstate`` of every x86 device type and in the vmdescs of its streams
(``golden/qemu-7.2``). Within them every command stays under 256 MiB of memory
(``tests/hostile/test_memory.py`` holds the hostile cases to it).

>>> too_deep([[[]]], 2), too_deep([[[]]], 3)
(True, False)
"""

from __future__ import annotations

from typing import Any

#: descriptions nested inside a description: structs, subsections, gtree keys and values [5]
MAX_NESTING = 32
#: nesting of any JSON input: descriptions, states, stream documents, vmdescs [17]
MAX_JSON_DEPTH = 128
#: fields of one description, nested descriptions' fields included [97]
MAX_FIELDS = 4096
#: elements of a fixed array (``array_len``) [16,384]
MAX_ARRAY_LEN = 1 << 20
#: bytes of one ``buffer``, ``unused_buffer`` or ``bitmap`` field [1 MiB: the GUS's ``himem``]
MAX_FIELD_BYTES = 1 << 24
#: zero bytes (``unused_buffer`` padding, not in the state) one encoded payload may hold [512]
MAX_PADDING = 1 << 24
#: bytes of a stream's trailing vmdesc JSON, looked for only this far from the end [99 KB;
#: 800 devices of 200 fields each describe themselves in 6.5 MB, 3200 in 26 MB]
MAX_VMDESC = 1 << 26
#: bytes after a stream's vmdesc (or after EOF) kept in a decoded stream [0]
MAX_TRAILING = 1 << 20
#: look-alikes of a vmdesc tried from the end of a stream [1]
MAX_VMDESC_CANDIDATES = 8
#: pages (or zero pages) of one RAM run in a stream document: 1 TiB of 4 KiB pages
MAX_RUN = 1 << 28


def too_deep(obj: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if JSON ``obj`` nests more than ``limit`` levels (no recursion: any depth is safe)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False
