"""What vmcompat asks of a real QEMU: dump, capture, load.

* :func:`dump` — ``-dump-vmstate`` JSON for a machine type (no QMP needed).
* :func:`capture` — a deterministic save: CPUs stopped (``-S``), clock pinned,
  QMP ``migrate`` to ``exec:cat > FILE``, ``query-migrate`` until completed,
  ``quit``. Two captures of one machine type are byte-identical.
* :func:`load` — the same guest with ``-incoming "exec:cat FILE"``:
  ``(True, "")`` when the incoming migration completes, ``(False, message)``
  with QEMU's own error when it refuses the stream.

Each has an ``async`` twin (``*_async``) for callers already in an event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from typing import Any

from harness.atomic import write_atomic
from harness.errors import InputError
from harness.qemu.binary import find_binary
from harness.qemu.cmdline import command_line, load_args, save_args
from harness.qemu.session import DEFAULT_TIMEOUT, QemuError, QemuExited, Session, stderr_line

POLL = 0.02


async def dump_async(machine: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The ``-dump-vmstate`` JSON of ``machine`` (parsed)."""
    return json.loads(await dump_text_async(machine, timeout=timeout))


async def dump_text_async(machine: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The ``-dump-vmstate`` file of ``machine``, exactly as QEMU wrote it (valid JSON)."""
    binary = find_binary()
    with tempfile.TemporaryDirectory(prefix="vmcompat-qemu-") as tmp:
        out = os.path.join(tmp, "dump.json")
        proc = await asyncio.create_subprocess_exec(
            *command_line(binary, machine, "-dump-vmstate", out),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            raise QemuError(f"-dump-vmstate did not finish within {timeout:g} s") from None
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise _refusal(machine, stderr_line(err.decode("utf-8", "replace")))
        try:
            with open(out, encoding="utf-8") as fh:
                text = fh.read()
            json.loads(text)
            return text
        except (OSError, ValueError) as e:
            raise QemuError(f"-dump-vmstate wrote no valid JSON: {e}") from None


def _refusal(machine: str, message: str) -> InputError:
    """QEMU would not even start (unknown machine type, bad option): bad input."""
    return InputError(message or "QEMU refused to start", device=machine)


async def capture_async(machine: str, out: str, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Save ``machine``'s stopped, deterministic guest; write it to ``out``; return it."""
    binary = find_binary()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def argv(sock: str, tmp: str) -> list[str]:
        return command_line(binary, machine, *save_args(sock))

    try:
        async with Session(argv) as s:
            target = os.path.join(s.tmp, "stream.bin")
            await s.execute("migrate", {"uri": f"exec:cat > {target}"})
            while True:
                info = await s.execute("query-migrate")
                status = info.get("status") if isinstance(info, dict) else None
                if status == "completed":
                    break
                if status in ("failed", "cancelled"):
                    raise QemuError(f"migration {status}: {info.get('error-desc', '')}".strip())
                if loop.time() > deadline:
                    raise QemuError(f"migration did not complete within {timeout:g} s")
                await asyncio.sleep(POLL)
            await s.quit()
            if not await s.wait_group(10.0):  # `cat > FILE` may still be writing
                raise QemuError("the exec: helper writing the stream did not finish")
            with open(target, "rb") as fh:
                data = fh.read()
    except QemuExited as e:
        raise _refusal(machine, str(e)) from None
    write_atomic(out, data)
    return data


async def load_async(machine: str, stream: str, *, timeout: float = DEFAULT_TIMEOUT
                     ) -> tuple[bool, str]:
    """Load ``stream`` into ``machine``: (True, "") or (False, QEMU's message)."""
    binary = find_binary()
    if not os.path.exists(stream) or os.path.isdir(stream):
        raise InputError("no such stream file", file=stream)
    path = os.path.abspath(stream)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def argv(sock: str, tmp: str) -> list[str]:
        return command_line(binary, machine, *load_args(sock, path))

    try:
        async with Session(argv) as s:
            while True:
                if s.exited():
                    e = await s.exit_error()
                    return False, str(e)
                info = await s.execute("query-migrate")
                status = info.get("status") if isinstance(info, dict) else None
                if status == "completed":
                    await s.quit()
                    return True, ""
                if status in ("failed", "cancelled"):
                    await s.wait_exit(2.0)
                    return False, stderr_line(await s.stderr()) or f"migration {status}"
                if loop.time() > deadline:
                    raise QemuError(f"incoming migration did not complete within {timeout:g} s")
                await asyncio.sleep(POLL)
    except QemuExited as e:
        if "machine type" in e.stderr.lower() and "received" not in e.stderr.lower():
            raise _refusal(machine, str(e)) from None
        return False, str(e)


def dump(machine: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Synchronous :func:`dump_async`."""
    return asyncio.run(dump_async(machine, timeout=timeout))


def dump_text(machine: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Synchronous :func:`dump_text_async`."""
    return asyncio.run(dump_text_async(machine, timeout=timeout))


def capture(machine: str, out: str, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Synchronous :func:`capture_async`."""
    return asyncio.run(capture_async(machine, out, timeout=timeout))


def load(machine: str, stream: str, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Synchronous :func:`load_async`."""
    return asyncio.run(load_async(machine, stream, timeout=timeout))
