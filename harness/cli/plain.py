"""Plain command lines, run without importing click.

Importing click and building its commands takes longer than decoding a typical
stream, and ``vmcompat stream decode`` is an everyday command measured against
QEMU's own ``scripts/analyze-migration.py`` (issue 15). A command in :data:`PLAIN`
therefore runs straight from a *plain* command line: its words, then its
arguments and options in any order, each option given once, as ``-o V``,
``--output V`` or ``--output=V``, with no value that starts with ``-``. Any other
command line — help, a missing, unknown or repeated option, ``--``, ``-oV`` — goes
to click, the one reference parser. Tests hold each entry to its click command
(same parameters, options, flags and required ones) and this parse to click's on
generated command lines.

>>> command, params = parse(["stream", "decode", "s.bin", "--output=d.json"])
>>> command.words, params
(('stream', 'decode'), {'stream_file': 's.bin', 'out': 'd.json', 'vmdesc_from': None, \
'allow_trailing': False})
>>> parse(["stream", "decode", "s.bin", "-o", "d.json", "--help"]) is None
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple


class Plain(NamedTuple):
    """A command that runs from a plain command line: its words, its parameters
    (click's names) and the function click's command calls with them."""

    words: tuple[str, ...]
    #: positional parameters, in order
    arguments: tuple[str, ...]
    #: option string -> parameter (takes a value; None when absent, unless required)
    options: Mapping[str, str]
    #: option string -> parameter (a flag: True when given, else False)
    flags: Mapping[str, str]
    required: frozenset[str]
    #: ``module:function``, imported only when this command runs
    target: str

    def function(self) -> Callable[..., Any]:
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


PLAIN: tuple[Plain, ...] = (
    Plain(("stream", "decode"), ("stream_file",),
          {"-o": "out", "--output": "out", "--vmdesc-from": "vmdesc_from"},
          {"--allow-trailing": "allow_trailing"}, frozenset({"stream_file", "out"}),
          "vmcompat.cli.stream_decode:decode_file"),
)


def parse(argv: Sequence[str]) -> tuple[Plain, dict[str, Any]] | None:
    """The command and its parameters if ``argv`` is a plain command line, else None."""
    for command in PLAIN:
        n = len(command.words)
        if tuple(argv[:n]) == command.words:
            params = _params(command, argv[n:])
            return None if params is None else (command, params)
    return None


def _params(command: Plain, args: Sequence[str]) -> dict[str, Any] | None:
    given: dict[str, Any] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-"):
            positional.append(a)
            continue
        opt, eq, value = a.partition("=")
        if opt in command.flags and not eq:
            name, value_of = command.flags[opt], True
        elif opt in command.options and (not eq or opt.startswith("--")):
            if not eq:
                if i == len(args):
                    return None
                value, i = args[i], i + 1
            if value.startswith("-"):
                return None
            name, value_of = command.options[opt], value
        else:
            return None  # help, "--", "-", an unknown option or form: click's to judge
        if name in given:
            return None
        given[name] = value_of
    if len(positional) != len(command.arguments):
        return None
    given.update(zip(command.arguments, positional))
    if not command.required <= given.keys():
        return None
    params = {name: given.get(name) for name in command.arguments}
    params.update({name: given.get(name) for name in command.options.values()})
    params.update({name: given.get(name, False) for name in command.flags.values()})
    return params
