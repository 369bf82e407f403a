"""``vmcompat``: the command line (also ``python -m vmcompat``).

Exit codes: 0 all compatible/verified, 1 an incompatibility, corruption,
refused load or golden mismatch, 2 bad input or usage (one line on stderr
naming the file, device and field; never a traceback), 141 (128 + SIGPIPE,
what a shell reports for a Unix tool) quietly when stdout's reader has gone
(``vmcompat golden verify | head -1``).

The commands are click's (:data:`main`, defined in :mod:`vmcompat.cli.group` and
imported on first use). This package itself imports no click: :func:`run`, the
entry point, runs a plain everyday command line (:mod:`vmcompat.cli.plain`) without
it, and the exit-code helpers here serve both.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from vmcompat.errors import InputError, LoadError, VmcompatError

if TYPE_CHECKING:
    from vmcompat.cli.group import main as main

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT = 0, 1, 2
#: stdout's reader went away: 128 + SIGPIPE, the status of a Unix tool stopped by SIGPIPE
EXIT_PIPE = 141

#: command name -> module under vmcompat.cli that defines it (imported on first use, so
#: ``vmcompat decode`` does not pay for Hypothesis or asn1tools)
COMMANDS: dict[str, str] = {
    "encode": "codec",
    "decode": "codec",
    "check": "check",
    "chain": "chain",
    "fuzz": "fuzz",
    "matrix": "matrix",
    "golden": "golden",
    "schema": "schema",
    "stream": "stream",
    "qemu": "qemu",
}

def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr, then exit."""
    sys.stderr.write(f"vmcompat: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


def stdout_closed() -> bool:
    """Whether stdout's reader has gone (a pipe's write end polls POLLERR once it has)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no file (a test buffer), no poll(): open
        return False


def quietly_stop() -> NoReturn:
    """Stop as a Unix tool does when its reader has gone: no message, exit 141."""
    with contextlib.suppress(OSError, ValueError):
        # Python flushes stdout once more at exit: let that go nowhere instead of failing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_PIPE)


def _click_exception(e: BaseException) -> bool:
    """Whether ``e`` is click's own (a usage error, an exit): click reports those. Without
    click loaded nothing can be."""
    click = sys.modules.get("click")
    return click is not None and isinstance(
        e, (click.exceptions.ClickException, click.exceptions.Exit, click.Abort))


def guarded(fn: F) -> F:
    """Map vmcompat errors to exit codes with one line on stderr."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            fail(str(e), EXIT_BAD_INPUT)
        except LoadError as e:
            fail(str(e), EXIT_FOUND)
        except VmcompatError as e:
            fail(str(e), EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as e:  # a defect: still one line, unless debugging
            if _click_exception(e):
                raise
            if os.environ.get("VMCOMPAT_DEBUG") or (
                    isinstance(e, BrokenPipeError) and stdout_closed()):
                raise  # a closed stdout: the entry point stops quietly
            fail(f"internal error: {type(e).__name__}: {e} (set VMCOMPAT_DEBUG=1 for a traceback)",
                 3)
        return None

    return wrapper  # type: ignore[return-value]


def installed_version(dist: str = "vmcompat") -> str:
    """The installed distribution's version, read from its ``*.dist-info/METADATA``.

    ``importlib.metadata`` (what click's ``version_option`` uses) costs more to
    import than the rest of ``vmcompat --version``; it stays the fallback.
    """
    prefix = f"{dist}-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith(prefix) and name.endswith(".dist-info"):
                with contextlib.suppress(OSError), open(
                        os.path.join(entry, name, "METADATA"), encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
    import importlib.metadata

    return importlib.metadata.version(dist)


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``vmcompat`` entry point: a plain command line runs as it is, any other goes
    to click (:data:`main`)."""
    from vmcompat.cli.plain import parse

    found = parse(sys.argv[1:] if argv is None else list(argv))
    if found is None:
        from vmcompat.cli.group import main

        main(argv)
    command, params = found
    try:
        rv = guarded(command.function())(**params)
        sys.stdout.flush()  # output still buffered fails here, not at interpreter exit
    except BrokenPipeError:
        if not stdout_closed():
            raise
        quietly_stop()
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def __getattr__(name: str) -> Any:
    """``main`` (the click group) is imported when first asked for."""
    if name == "main":
        from vmcompat.cli.group import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
