"""Golden file names: ``<device>/v<N>/<wire>/<case>.{bin,json}``.

>>> k = GoldenKey("rtc", 3, "legacy", "sample", "bin")
>>> k.path
'rtc/v3/legacy/sample.bin'
>>> GoldenKey.parse("rtc/v3/legacy/sample.json")
GoldenKey(device='rtc', version=3, wire='legacy', case='sample', ext='json')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote

#: payload and state, side by side
EXTS = ("bin", "json")

_KEY = re.compile(r"^(?P<device>[^/]+)/v(?P<version>\d+)/(?P<wire>[^/]+)/(?P<case>[^/]+)"
                  r"\.(?P<ext>bin|json)$")


@dataclass(frozen=True, order=True)
class GoldenKey:
    device: str
    version: int
    wire: str
    case: str
    ext: str = "bin"

    @property
    def path(self) -> str:
        return (f"{quote(self.device, safe='')}/v{self.version}/{self.wire}/"
                f"{quote(self.case, safe='+')}.{self.ext}")

    @property
    def stem(self) -> tuple[str, int, str, str]:
        """The golden without its extension: a payload and its state share it."""
        return (self.device, self.version, self.wire, self.case)

    def with_ext(self, ext: str) -> GoldenKey:
        return replace(self, ext=ext)

    @classmethod
    def parse(cls, path: str) -> GoldenKey | None:
        """The key a relative path names, or None when it is not a device golden."""
        m = _KEY.match(path)
        if m is None:
            return None
        return cls(unquote(m["device"]), int(m["version"]), m["wire"], unquote(m["case"]),
                   m["ext"])

    def label(self) -> str:
        return f"{self.device}@{self.version} {self.wire} {self.case}"


def device_prefix(device: str) -> str:
    return quote(device, safe="") + "/"
