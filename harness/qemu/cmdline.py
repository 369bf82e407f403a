"""QEMU command lines: one deterministic base, three uses (dump, capture, load).

>>> command_line("qemu", "pc-i440fx-7.2", "-S")[:4]
['qemu', '-machine', 'pc-i440fx-7.2', '-accel']
>>> device_args(["intel-hda", "hda-duplex"])[-4:]
['-device', 'intel-hda', '-device', 'hda-duplex,audiodev=vmcompat-audio']
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from vmcompat.qemu.releases import Qemu

#: a stopped, clock-pinned guest: two saves of it are byte-identical
DETERMINISTIC: tuple[str, ...] = (
    "-accel", "tcg", "-m", "32", "-display", "none", "-nodefaults",
    "-serial", "none", "-monitor", "none",
    "-rtc", "base=2020-01-01T00:00:00,clock=vm",
)

AUDIODEV = "vmcompat-audio"
#: devices that need an audio back-end (QEMU 10.0 no longer picks one by itself)
AUDIO_DEVICES = frozenset({"hda-duplex", "hda-output", "hda-micro", "sb16", "ac97", "es1370",
                           "adlib", "gus", "cs4231a", "usb-audio"})


def command_line(qemu: Qemu | str, machine: str, *extra: str,
                 devices: Sequence[str] = ()) -> list[str]:
    """``qemu -machine MACHINE <deterministic options> <devices> <extra>``."""
    args = ["-machine", machine, *DETERMINISTIC, *device_args(devices), *extra]
    return qemu.argv(*args) if isinstance(qemu, Qemu) else [qemu, *args]


def device_args(devices: Sequence[str]) -> list[str]:
    """``-device SPEC`` for each, plus the back-ends some devices need (``-audiodev none``)."""
    args: list[str] = []
    audio = False
    for spec in devices:
        driver = spec.split(",", 1)[0]
        if driver in AUDIO_DEVICES and "audiodev=" not in spec:
            spec, audio = f"{spec},audiodev={AUDIODEV}", True
        args += ["-device", spec]
    return (["-audiodev", f"none,id={AUDIODEV}"] if audio else []) + args


def qmp_option(sock: str) -> list[str]:
    return ["-qmp", f"unix:{sock},server=on,wait=off"]


def save_args(sock: str, *, running: bool = False) -> list[str]:
    """A capture: CPUs stopped (unless the guest is to run first), QMP on ``sock``."""
    return [*([] if running else ["-S"]), *qmp_option(sock)]


def load_args(sock: str, stream: str) -> list[str]:
    """A load: the same guest, waiting for ``stream`` on its incoming channel."""
    return ["-incoming", f"exec:cat {shlex.quote(stream)}", *qmp_option(sock)]
