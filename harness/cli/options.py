"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from harness.compat import directions


class DirectionChoice(click.Choice):
    """``upgrade|downgrade|both``; the schema-registry words are accepted as aliases."""

    def __init__(self) -> None:
        super().__init__(list(directions.RUNS))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        return super().convert(directions.ALIASES.get(value, value), param, ctx)


def direction_option(default: str = directions.UPGRADE, what: str = ""
                     ) -> Callable[[Any], Any]:
    """``--direction``: see :mod:`harness.compat.directions`."""
    return click.option("--direction", type=DirectionChoice(), default=default,
                        show_default=True, help=" ".join(x for x in (what, directions.HELP) if x))
