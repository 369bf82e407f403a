"""A synthetic big savevm stream, written section by section in flat memory.

The stream is what QEMU 7.2 writes for a ``pc-i440fx-7.2`` machine with many
devices and no RAM: header, configuration, one FULL section per device (its
scalars, then one buffer), a footer after each, EOF, then the vmdesc listing
every device. It is written with plain ``struct`` packing, not with vmcompat's
writer, so decoding it checks the decoder against an independent encoder.

Defaults: 800 sections x 200 scalars + a 64 KiB buffer each, about 59.5 MB
with a 6.5 MB vmdesc (the stream of issue 15).

Run: ``python bench/bigstream.py OUT.bin [--sections N] [--scalars N] [--buffer BYTES]``.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

MACHINE = "pc-i440fx-7.2"
VMSD_NAME = "bigdev"
#: scalar wire types in turn: (vmdesc type, size, struct code, signed)
SCALARS = (("uint8", 1, "B", False), ("uint16", 2, "H", False), ("uint32", 4, "I", False),
           ("uint64", 8, "Q", False), ("int8", 1, "b", True), ("int16", 2, "h", True),
           ("int32", 4, "i", True), ("int64", 8, "q", True))
_BE32 = struct.Struct(">I")


def _scalars(n: int) -> list[tuple[str, int, str, bool]]:
    return [SCALARS[i % len(SCALARS)] for i in range(n)]


def vmdesc_device(index: int, scalars: int, buffer: int) -> dict[str, Any]:
    """The vmdesc entry of section ``index``."""
    fields: list[dict[str, Any]] = [{"name": f"r{i}", "type": t, "size": size}
                                    for i, (t, size, _, _) in enumerate(_scalars(scalars))]
    fields.append({"name": "data", "type": "buffer", "size": buffer})
    return {"name": f"dev{index}", "instance_id": 0, "vmsd_name": VMSD_NAME, "version": 1,
            "fields": fields}


def _vmdesc_chunks(sections: int, scalars: int, buffer: int) -> Iterator[bytes]:
    """The vmdesc JSON, compact, one device at a time (QEMU writes ``", "`` and ``": "``
    between items; this form is kept so the figures stay comparable, and it takes the
    ``vmdesc_text`` path of a decoded document)."""
    yield b'{"page_size":4096,"devices":['
    for i in range(sections):
        if i:
            yield b","
        yield json.dumps(vmdesc_device(i, scalars, buffer), separators=(",", ":")).encode()
    yield b"]}"


def _payload(rng: random.Random, layout: struct.Struct, kinds: list[tuple[str, int, str, bool]],
             buffer: int) -> bytes:
    values = []
    for _, size, _, signed in kinds:
        v = rng.getrandbits(size * 8)
        values.append(v - (1 << (size * 8)) if signed and v >> (size * 8 - 1) else v)
    return layout.pack(*values) + rng.randbytes(buffer)


def write_big_stream(out: BinaryIO, sections: int = 800, scalars: int = 200,
                     buffer: int = 65536, seed: int = 15) -> int:
    """Write the stream to ``out``; return its size in bytes."""
    rng = random.Random(seed)
    kinds = _scalars(scalars)
    layout = struct.Struct(">" + "".join(code for _, _, code, _ in kinds))
    size = 0

    def put(b: bytes) -> None:
        nonlocal size
        out.write(b)
        size += len(b)

    put(b"QEVM" + _BE32.pack(3))
    put(b"\x07" + _BE32.pack(len(MACHINE)) + MACHINE.encode())
    for i in range(sections):
        sid = i + 1
        idstr = f"dev{i}".encode()
        put(b"\x04" + _BE32.pack(sid) + bytes([len(idstr)]) + idstr + _BE32.pack(0)
            + _BE32.pack(1))
        put(_payload(rng, layout, kinds, buffer))
        put(b"\x7e" + _BE32.pack(sid))
    put(b"\x00")
    vmdesc = b"".join(_vmdesc_chunks(sections, scalars, buffer))
    put(b"\x06" + _BE32.pack(len(vmdesc)))
    put(vmdesc)
    return size


def build(path: Path, sections: int = 800, scalars: int = 200, buffer: int = 65536) -> int:
    """Write the stream to ``path`` (if not already there with these parameters)."""
    with open(path, "wb") as fh:
        return write_big_stream(fh, sections, scalars, buffer)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--sections", type=int, default=800)
    p.add_argument("--scalars", type=int, default=200)
    p.add_argument("--buffer", type=int, default=65536, help="buffer bytes per section")
    a = p.parse_args()
    size = build(a.out, a.sections, a.scalars, a.buffer)
    print(f"{a.out}: {size / 1e6:.1f} MB, {a.sections} sections")


if __name__ == "__main__":
    main()
