"""Driving real ``qemu-system-x86_64`` releases: dump, capture, load (QMP via ``qemu.qmp``).

>>> sorted(__all__)[:3]
['DETERMINISTIC', 'Qemu', 'QemuError']
"""

from vmcompat.qemu.cmdline import DETERMINISTIC, command_line
from vmcompat.qemu.ops import (
    capture,
    capture_async,
    dump,
    dump_async,
    dump_text,
    dump_text_async,
    load,
    load_and_capture,
    load_and_capture_async,
    load_async,
    load_then_save,
    load_then_save_async,
)
from vmcompat.qemu.releases import Qemu, available, find_binary, resolve
from vmcompat.qemu.session import QemuError, QemuExited, QemuTimeout, Session

__all__ = [
    "DETERMINISTIC", "Qemu", "QemuError", "QemuExited", "QemuTimeout", "Session", "available",
    "capture", "capture_async", "command_line", "dump", "dump_async", "dump_text",
    "dump_text_async", "find_binary", "load", "load_and_capture", "load_and_capture_async",
    "load_async", "load_then_save", "load_then_save_async", "resolve",
]
