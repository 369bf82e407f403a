"""Version checks of ``vmstate_load_state``, shared by every reader."""

from __future__ import annotations

from harness.errors import Path, VersionTooNew, VersionTooOld
from harness.model import Description


def check_version(desc: Description, version: int, *, path: Path = (), offset: int | None = None,
                  marshal: bool = True) -> str | None:
    """Raise if ``version`` cannot be loaded by ``desc``; return a marshal name if one loads it.

    >>> from harness.model import Description
    >>> check_version(Description("d", 3, 2), 4)
    Traceback (most recent call last):
    ...
    harness.errors.VersionTooNew: incoming version_id 4 is too new for local version_id 3
    """
    if version > desc.version_id:
        raise VersionTooNew(path=path, offset=offset, name=desc.name, got=version,
                            local=desc.version_id)
    if version < desc.minimum_version_id:
        name = desc.marshal_for(version) if marshal else None
        if name is None:
            raise VersionTooOld(path=path, offset=offset, name=desc.name, got=version,
                                local=desc.minimum_version_id)
        return name
    return None
