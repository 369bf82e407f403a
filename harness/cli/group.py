"""The ``vmcompat`` click group: its commands, imported when first used.

Every command module (:data:`~vmcompat.cli.COMMANDS`) adds its commands to :data:`main`.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from typing import Any

import click

from vmcompat.cli import (
    COMMANDS,
    EXIT_BAD_INPUT,
    fail,
    installed_version,
    quietly_stop,
    stdout_closed,
)


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
            quietly_stop()
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


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"{ctx.find_root().info_name}, version {installed_version()}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """vmcompat: property-based compatibility testing of QEMU VMState serialization."""
