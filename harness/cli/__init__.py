"""``vmcompat``: the command line (also ``python -m vmcompat``).

Exit codes: 0 all compatible/verified, 1 an incompatibility, corruption,
refused load or golden mismatch, 2 bad input or usage (one line on stderr
naming the file, device and field; never a traceback), 141 (128 + SIGPIPE,
what a shell reports for a Unix tool) quietly when stdout's reader has gone
(``vmcompat golden verify | head -1``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, TypeVar

import click

from vmcompat.errors import InputError, LoadError, VmcompatError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT = 0, 1, 2
#: stdout's reader went away: 128 + SIGPIPE, the status of a Unix tool stopped by SIGPIPE
EXIT_PIPE = 141


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """One line on stderr, then exit."""
    click.echo(f"vmcompat: {message}", err=True)
    sys.exit(code)


def stdout_closed() -> bool:
    """Whether stdout's reader has gone (a pipe's write end polls POLLERR once it has)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no file (a test buffer), no poll(): open
        return False


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
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as e:  # a defect: still one line, unless debugging
            if os.environ.get("VMCOMPAT_DEBUG") or (
                    isinstance(e, BrokenPipeError) and stdout_closed()):
                raise  # a closed stdout: the entry point stops quietly
            fail(f"internal error: {type(e).__name__}: {e} (set VMCOMPAT_DEBUG=1 for a traceback)",
                 3)
        return None

    return wrapper  # type: ignore[return-value]


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

#: modules that add commands to :func:`main`, one per command family
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


class _StdoutClosed(Exception):
    """stdout's reader went away; carried past click's own handler (exit 1) to the entry point."""


@contextlib.contextmanager
def _stdout_may_close() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        if not stdout_closed():  # another pipe or socket: not ours to hide
            raise
        raise _StdoutClosed from None


def _quietly_stop() -> None:
    """Stop as a Unix tool does when its reader has gone: no message, exit 141."""
    with contextlib.suppress(OSError, ValueError):
        # Python flushes stdout once more at exit: let that go nowhere instead of failing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_PIPE)


class LazyGroup(click.Group):
    """A click group whose commands are imported when first used."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _stdout_may_close():  # `vmcompat --help` writes here
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with _stdout_may_close():  # every command (and its --help) runs in here
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def main(self, args: Any = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Like click's, but a usage error is one line on stderr (exit 2) and a closed
        stdout stops quietly (exit 141)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
            sys.stdout.flush()  # output still buffered fails here, not at interpreter exit
        except (_StdoutClosed, BrokenPipeError):
            _quietly_stop()
        except click.exceptions.NoArgsIsHelpError as e:  # a bare group: its help, as click does
            click.echo(e.format_message(), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.UsageError as e:
            where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            fail(f"{e.format_message()}{where}", EXIT_BAD_INPUT)
        except click.ClickException as e:
            fail(e.format_message(), e.exit_code)
        except click.Abort:
            fail("aborted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"vmcompat.cli.{COMMANDS[cmd_name]}")
        return self.commands.get(cmd_name)


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


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"{ctx.find_root().info_name}, version {installed_version()}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """vmcompat: property-based compatibility testing of QEMU VMState serialization."""
