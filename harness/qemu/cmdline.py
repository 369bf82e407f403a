"""QEMU command lines: one deterministic base, three uses (dump, capture, load).

>>> command_line("qemu", "pc-i440fx-7.2", "-S")[:4]
['qemu', '-machine', 'pc-i440fx-7.2', '-accel']
"""

from __future__ import annotations

#: a stopped, clock-pinned guest: two saves of it are byte-identical
DETERMINISTIC: tuple[str, ...] = (
    "-accel", "tcg", "-m", "32", "-display", "none", "-nodefaults",
    "-serial", "none", "-monitor", "none",
    "-rtc", "base=2020-01-01T00:00:00,clock=vm",
)


def command_line(binary: str, machine: str, *extra: str) -> list[str]:
    """``binary -machine MACHINE <deterministic options> <extra>``."""
    return [binary, "-machine", machine, *DETERMINISTIC, *extra]


def qmp_option(sock: str) -> list[str]:
    return ["-qmp", f"unix:{sock},server=on,wait=off"]


def save_args(sock: str) -> list[str]:
    """A capture: CPUs stopped, QMP on ``sock``."""
    return ["-S", *qmp_option(sock)]


def load_args(sock: str, stream: str) -> list[str]:
    """A load: the same guest, waiting for ``stream`` on its incoming channel."""
    return ["-incoming", f"exec:cat {_quote(stream)}", *qmp_option(sock)]


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)
