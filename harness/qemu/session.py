"""One running QEMU with a QMP connection (``qemu.qmp``'s :class:`QMPClient`), asyncio.

:class:`Session` is an async context manager: it starts the process, connects
QMP (retrying until the socket appears or the process dies), and on every
exit path (normal, error, timeout, cancellation) disconnects, kills the
process if still alive, reaps it and removes its temporary directory (the
socket lives there). QEMU runs in its own process group, so the ``exec:``
helpers it spawns (``sh``, ``cat``) are killed with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import Any

from qemu.qmp import QMPClient, QMPError

from vmcompat.errors import VmcompatError

#: seconds to wait for QMP to come up, and the default for whole operations
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 60.0


# QEMU exiting under an open connection is how a refused load ends: not worth an ERROR log
_QMP_LOG = logging.getLogger("qemu.qmp")
if _QMP_LOG.level == logging.NOTSET:
    _QMP_LOG.setLevel(logging.CRITICAL)


class QemuError(VmcompatError):
    """QEMU did not do what was asked (did not start, timed out, migration failed)."""


class QemuTimeout(QemuError):
    """QEMU did not answer, or an operation did not complete, in the time allowed (the
    session kills its process group): a hang, not a refusal."""


class QemuExited(QemuError):
    """The process ended early; ``returncode`` and ``stderr`` say how."""

    def __init__(self, returncode: int | None, stderr: str) -> None:
        self.returncode, self.stderr = returncode, stderr
        super().__init__(stderr_line(stderr) or f"QEMU exited with status {returncode}")


def stderr_line(stderr: str) -> str:
    """QEMU's errors as one line (joined by ``"; "``); its warnings only when nothing else.

    >>> stderr_line("q: warning: nic e1000.0 has no peer\\nq: Missing section footer for x\\n")
    'q: Missing section footer for x'
    """
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ": warning: " not in ln]
    return "; ".join(errors or lines)


class Session:
    """``async with Session(argv_for_socket) as s: await s.qmp.execute(...)``.

    ``argv`` is a function of the QMP socket path (it lives in a private
    temporary directory, also available to callers as :attr:`tmp`).
    """

    def __init__(self, argv: Callable[[str, str], list[str]], *,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self._argv = argv
        self.connect_timeout = connect_timeout
        self.tmp = ""
        self.sock = ""
        self.proc: asyncio.subprocess.Process | None = None
        self.qmp = QMPClient("vmcompat")
        self._stderr = b""

    async def __aenter__(self) -> Session:
        self.tmp = tempfile.mkdtemp(prefix="vmcompat-qemu-")
        self.sock = os.path.join(self.tmp, "qmp.sock")
        try:
            argv = self._argv(self.sock, self.tmp)
            try:
                # its own process group: QEMU's exec: helpers (sh, cat) go with it
                self.proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE, start_new_session=True)
            except OSError as e:
                raise QemuError(f"cannot start {argv[0]}: {e.strerror}") from None
            await self._connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        while True:
            if self.exited():
                raise await self.exit_error()
            if os.path.exists(self.sock):
                try:
                    await asyncio.wait_for(self.qmp.connect(self.sock),
                                           max(0.1, deadline - loop.time()))
                    return
                except (TimeoutError, QMPError, OSError, AssertionError):
                    # qemu.qmp asserts when the peer closes during the handshake: QEMU
                    # exiting (a load that fails at once does)
                    if self.exited() or await self.wait_exit(0.5) is not None:
                        raise await self.exit_error() from None
                    with contextlib.suppress(Exception):  # back to idle for the next try
                        await self.qmp.disconnect()
            if loop.time() > deadline:
                raise QemuTimeout(f"QMP did not come up within {self.connect_timeout:g} s")
            await asyncio.sleep(0.01)

    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    async def wait_exit(self, timeout: float) -> int | None:
        """Wait for the process to end; return its status (None if still running)."""
        assert self.proc is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), timeout)
        return self.proc.returncode

    async def stderr(self) -> str:
        """Everything QEMU wrote on stderr (once the process has ended)."""
        if self.proc is not None and self.proc.stderr is not None and self.exited():
            with contextlib.suppress(Exception):
                self._stderr += await asyncio.wait_for(self.proc.stderr.read(), 2.0)
        return self._stderr.decode("utf-8", "replace")

    async def exit_error(self) -> QemuExited:
        assert self.proc is not None
        await self.wait_exit(2.0)
        return QemuExited(self.proc.returncode, await self.stderr())

    async def execute(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        try:
            return await self.qmp.execute(cmd, args)
        except (QMPError, OSError, EOFError) as e:  # the connection dropped under us
            # a dropped connection usually means QEMU is exiting: give it a moment
            if self.proc is not None and await self.wait_exit(2.0) is not None:
                raise await self.exit_error() from None
            raise QemuError(f"QMP {cmd}: {e}") from None

    async def quit(self) -> None:
        """Ask QEMU to quit; the connection dropping under us is expected."""
        with contextlib.suppress(QMPError, OSError, EOFError, TimeoutError):
            await asyncio.wait_for(self.qmp.execute("quit"), 5.0)
        await self.wait_exit(5.0)

    async def wait_group(self, timeout: float) -> bool:
        """Wait until every process of QEMU's group (its ``exec:`` helpers) has ended."""
        if self.proc is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:  # pragma: no cover - the id was reused
                return True
            await asyncio.sleep(0.01)
        return False

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.qmp.disconnect(), 2.0)
        proc = self.proc
        if proc is not None:
            # the group we created (QEMU and its exec: helpers), by its id, then reap QEMU
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5.0)
        if proc is not None and proc.stderr is not None and proc.returncode is not None:
            await self.stderr()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = ""
