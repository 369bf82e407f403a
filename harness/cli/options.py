"""Option types several commands share: numbers with their real ranges (a value outside
one is bad input, exit 2) and ``--direction``.

>>> VERSION_ID.convert("4294967295", None, None)
4294967295
>>> SECONDS.convert("nan", None, None)
Traceback (most recent call last):
...
click.exceptions.BadParameter: 'nan' is not a positive, finite number of seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from vmcompat.compat import directions

#: a version id travels as a be32 in the section header (QEMU's ``qemu_get_be32``)
VERSION_ID = click.IntRange(0, (1 << 32) - 1)

#: Hypothesis examples per cell: at least one
EXAMPLES = click.IntRange(min=1)

#: worker processes; 0 is one per core
JOBS = click.IntRange(min=0)

#: a Hypothesis seed: any integer
SEED = click.INT


class Seconds(click.ParamType):
    """A positive (or, with ``zero``, non-negative), finite float (``nan`` and ``inf``
    would never time out)."""

    name = "seconds"

    def __init__(self, *, zero: bool = False) -> None:
        self.zero = zero

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        seconds = click.FLOAT.convert(value, param, ctx)
        ok = (0 <= seconds if self.zero else 0 < seconds) and seconds < math.inf
        if not ok:
            what = "non-negative" if self.zero else "positive"
            self.fail(f"{value!r} is not a {what}, finite number of seconds.", param, ctx)
        return seconds


SECONDS = Seconds()
#: how long a guest runs before a capture: 0 (the default) keeps it stopped
RUN_SECONDS = Seconds(zero=True)


class DirectionChoice(click.Choice):
    """``upgrade|downgrade|both``; the schema-registry words are accepted as aliases."""

    def __init__(self) -> None:
        super().__init__(list(directions.RUNS))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        return super().convert(directions.ALIASES.get(value, value), param, ctx)


def direction_option(default: str = directions.UPGRADE, what: str = ""
                     ) -> Callable[[Any], Any]:
    """``--direction``: see :mod:`vmcompat.compat.directions`."""
    return click.option("--direction", type=DirectionChoice(), default=default,
                        show_default=True, help=" ".join(x for x in (what, directions.HELP) if x))
