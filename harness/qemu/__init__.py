"""Driving a real ``qemu-system-x86_64``: dump, capture, load (QMP via ``qemu.qmp``).

>>> sorted(__all__)[:3]
['DETERMINISTIC', 'QemuError', 'QemuExited']
"""

from harness.qemu.binary import available, find_binary
from harness.qemu.cmdline import DETERMINISTIC, command_line
from harness.qemu.ops import (
    capture,
    capture_async,
    dump,
    dump_async,
    dump_text,
    dump_text_async,
    load,
    load_async,
)
from harness.qemu.session import QemuError, QemuExited, Session

__all__ = [
    "DETERMINISTIC", "QemuError", "QemuExited", "Session", "available", "capture",
    "capture_async", "command_line", "dump", "dump_async", "dump_text",
    "dump_text_async", "find_binary", "load", "load_async",
]
