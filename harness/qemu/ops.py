"""What vmcompat asks of a real QEMU: dump, capture, load, and load-then-save.

* :func:`dump` — ``-dump-vmstate`` JSON for a machine type (no QMP needed).
* :func:`capture` — a save: CPUs stopped (``-S``), clock pinned, QMP ``migrate`` to
  ``exec:cat > FILE``, ``query-migrate`` until completed, ``quit``. Two captures of one
  machine type are byte-identical. With ``run`` seconds the guest runs first (not
  deterministic).
* :func:`load` — the same guest with ``-incoming "exec:cat FILE"``: ``(True, "")`` when
  the incoming migration completes, ``(False, message)`` with QEMU's own error when it
  refuses the stream.
* :func:`load_and_capture` — load paused, then save what the destination now holds:
  ``(stream bytes, "")`` or ``(None, message)``; :func:`load_then_save` says the same
  as a :class:`Reloaded`, with the exit status of a destination that died.

Every function takes ``qemu`` (a :class:`~vmcompat.qemu.releases.Qemu`, default the one
``$VMCOMPAT_QEMU`` or the system provides) and ``devices`` (``-device`` specs). Each has
an ``async`` twin (``*_async``) for callers already in an event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Awaitable, Sequence
from typing import Any

from vmcompat.atomic import write_atomic
from vmcompat.errors import InputError
from vmcompat.qemu.cmdline import command_line, load_args, save_args
from vmcompat.qemu.releases import Qemu, resolve
from vmcompat.qemu.session import (
    DEFAULT_TIMEOUT,
    QemuError,
    QemuExited,
    QemuTimeout,
    Session,
    stderr_line,
)
from vmcompat.values import field, immutable

POLL = 0.02


async def dump_async(machine: str, *, qemu: Qemu | None = None, devices: Sequence[str] = (),
                     timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The ``-dump-vmstate`` JSON of ``machine`` (parsed)."""
    return json.loads(await dump_text_async(machine, qemu=qemu, devices=devices,
                                            timeout=timeout))


async def dump_text_async(machine: str, *, qemu: Qemu | None = None,
                          devices: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT) -> str:
    """The ``-dump-vmstate`` file of ``machine``, exactly as QEMU wrote it (valid JSON)."""
    qemu = qemu or resolve()
    with tempfile.TemporaryDirectory(prefix="vmcompat-qemu-") as tmp:
        out = os.path.join(tmp, "dump.json")
        proc = await asyncio.create_subprocess_exec(
            *command_line(qemu, machine, "-dump-vmstate", out, devices=devices),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            raise QemuTimeout(f"-dump-vmstate did not finish within {timeout:g} s") from None
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


async def _within(call: Awaitable[Any], deadline: float, timeout: float,
                  what: str = "migration") -> Any:
    """``call``, or :class:`QemuError` at ``deadline``: a QEMU busy loading does not answer
    QMP, so every command is bounded (the session then kills its process group)."""
    left = deadline - asyncio.get_running_loop().time()
    try:
        return await asyncio.wait_for(call, max(left, 0.1))
    except TimeoutError:
        raise QemuTimeout(f"{what} did not complete within {timeout:g} s") from None


async def _save(s: Session, deadline: float, timeout: float) -> bytes:
    """Migrate the guest of ``s`` to a file, quit, return the stream."""
    loop = asyncio.get_running_loop()
    target = os.path.join(s.tmp, "stream.bin")
    if loop.time() > deadline:  # starting QEMU took the whole budget
        raise QemuTimeout(f"migration did not complete within {timeout:g} s")
    await _within(s.execute("migrate", {"uri": f"exec:cat > {target}"}), deadline, timeout)
    while True:
        info = await _within(s.execute("query-migrate"), deadline, timeout)
        status = info.get("status") if isinstance(info, dict) else None
        if status == "completed":
            break
        if status in ("failed", "cancelled"):
            raise QemuError(f"migration {status}: {info.get('error-desc', '')}".strip())
        if loop.time() > deadline:
            raise QemuTimeout(f"migration did not complete within {timeout:g} s")
        await asyncio.sleep(POLL)
    await s.quit()
    if not await s.wait_group(10.0):  # `cat > FILE` may still be writing
        raise QemuError("the exec: helper writing the stream did not finish")
    with open(target, "rb") as fh:
        return fh.read()


async def capture_async(machine: str, out: str | None = None, *, qemu: Qemu | None = None,
                        devices: Sequence[str] = (), run: float = 0.0,
                        timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Save ``machine``'s guest (stopped, or after ``run`` seconds); write it to ``out``."""
    qemu = qemu or resolve()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout + run

    def argv(sock: str, tmp: str) -> list[str]:
        return command_line(qemu, machine, *save_args(sock, running=run > 0), devices=devices)

    try:
        async with Session(argv) as s:
            if run > 0:
                await asyncio.sleep(run)
            data = await _save(s, deadline, timeout)
    except QemuExited as e:
        raise _refusal(machine, str(e)) from None
    if out is not None:
        write_atomic(out, data)
    return data


async def _incoming(s: Session, deadline: float, timeout: float) -> str | None:
    """Wait for the incoming migration: None when it completed, else QEMU's message."""
    loop = asyncio.get_running_loop()
    while True:
        if s.exited():
            return str(await s.exit_error())
        info = await _within(s.execute("query-migrate"), deadline, timeout, "incoming migration")
        status = info.get("status") if isinstance(info, dict) else None
        if status == "completed":
            return None
        if status in ("failed", "cancelled"):
            await s.wait_exit(2.0)
            return stderr_line(await s.stderr()) or f"migration {status}"
        if loop.time() > deadline:
            raise QemuTimeout(f"incoming migration did not complete within {timeout:g} s")
        await asyncio.sleep(POLL)


def _stream_path(stream: str) -> str:
    if not os.path.exists(stream) or os.path.isdir(stream):
        raise InputError("no such stream file", file=stream)
    return os.path.abspath(stream)


async def load_async(machine: str, stream: str, *, qemu: Qemu | None = None,
                     devices: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
                     ) -> tuple[bool, str]:
    """Load ``stream`` into ``machine``: (True, "") or (False, QEMU's message)."""
    r = await _load(machine, stream, qemu=qemu, devices=devices, timeout=timeout,
                    then_save=False)
    return r.stream is not None, r.error


async def load_and_capture_async(machine: str, stream: str, *, qemu: Qemu | None = None,
                                 devices: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
                                 ) -> tuple[bytes | None, str]:
    """Load ``stream`` paused, then save the destination: (its stream, "") or (None, error)."""
    r = await load_then_save_async(machine, stream, qemu=qemu, devices=devices, timeout=timeout)
    return r.stream, r.error


@immutable(slots=True)
class Reloaded:
    """What :func:`load_then_save_async` saw: the saved stream, or QEMU's error line and,
    when the process ended by itself, its exit status (negative: killed by that signal)."""

    stream: bytes | None = field(repr=False)  # megabytes: never in a repr
    error: str = ""
    status: int | None = None


async def load_then_save_async(machine: str, stream: str, *, qemu: Qemu | None = None,
                               devices: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
                               ) -> Reloaded:
    """:func:`load_and_capture_async`, also telling how a destination that died ended.

    A load that does not complete within ``timeout`` raises :class:`QemuTimeout` (the
    process group is killed first).
    """
    return await _load(machine, stream, qemu=qemu, devices=devices, timeout=timeout,
                       then_save=True)


async def _load(machine: str, stream: str, *, qemu: Qemu | None, devices: Sequence[str],
                timeout: float, then_save: bool) -> Reloaded:
    qemu = qemu or resolve()
    path = _stream_path(stream)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def argv(sock: str, tmp: str) -> list[str]:
        paused = ["-S"] if then_save else []
        return command_line(qemu, machine, *paused, *load_args(sock, path), devices=devices)

    try:
        async with Session(argv) as s:
            message = await _incoming(s, deadline, timeout)
            if message is not None:
                return Reloaded(None, message, s.proc.returncode if s.proc else None)
            if not then_save:
                await s.quit()
                return Reloaded(b"")
            return Reloaded(await _save(s, loop.time() + timeout, timeout))
    except QemuExited as e:
        if "machine type" in e.stderr.lower() and "received" not in e.stderr.lower():
            raise _refusal(machine, str(e)) from None
        return Reloaded(None, str(e), e.returncode)


def dump(machine: str, **kw: Any) -> Any:
    """Synchronous :func:`dump_async`."""
    return asyncio.run(dump_async(machine, **kw))


def dump_text(machine: str, **kw: Any) -> str:
    """Synchronous :func:`dump_text_async`."""
    return asyncio.run(dump_text_async(machine, **kw))


def capture(machine: str, out: str | None = None, **kw: Any) -> bytes:
    """Synchronous :func:`capture_async`."""
    return asyncio.run(capture_async(machine, out, **kw))


def load(machine: str, stream: str, **kw: Any) -> tuple[bool, str]:
    """Synchronous :func:`load_async`."""
    return asyncio.run(load_async(machine, stream, **kw))


def load_and_capture(machine: str, stream: str, **kw: Any) -> tuple[bytes | None, str]:
    """Synchronous :func:`load_and_capture_async`."""
    return asyncio.run(load_and_capture_async(machine, stream, **kw))


def load_then_save(machine: str, stream: str, **kw: Any) -> Reloaded:
    """Synchronous :func:`load_then_save_async`."""
    return asyncio.run(load_then_save_async(machine, stream, **kw))
