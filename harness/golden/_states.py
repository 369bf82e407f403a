"""The golden state of a description: :func:`vmcompat.catalog.sample_state`, validated.

Deterministic and readable (values derive from field paths, never random), in the in-memory
form the codecs take (buffers as bytes).

>>> from vmcompat.dsl import device, uint8
>>> d = device("d", 1, uint8("a"))
>>> golden_state(d) == golden_state(d)
True
"""

from __future__ import annotations

from typing import Any

from vmcompat import state as statejson
from vmcompat.catalog._sample import sample_state
from vmcompat.model import Description


def golden_state(desc: Description) -> Any:
    """The golden state of a description, validated (in-memory form: buffers as bytes)."""
    return statejson.from_json(desc, sample_state(desc))
