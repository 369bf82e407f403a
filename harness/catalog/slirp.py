"""User-mode networking (``slirp``): sockets framed by a 42 marker.

libslirp facts (``src/state.c``, ``slirp_state_save``): for each guest-forward
socket it writes the byte **42** and the socket (``vmstate_slirp_socket``);
a byte **0** ends the list; then ``vmstate_slirp``: ``ip_id`` (uint16, field
version 2) and the 16 BOOTP clients (``allocated`` uint16, ``macaddr`` 6
bytes; field version 3). The section's version is 4 in QEMU.

A socket here (libslirp's, reduced): ``so_urgc`` (uint32), the foreign and
local family (uint16) with the address that depends on it — 4 bytes when the
family is ``AF_INET`` (2), 16 when ``AF_INET6`` (10): fields with exists-tests,
as libslirp's ``VMSTATE_*_TEST`` — the ports (uint16), ``so_iptos``,
``so_emu``, ``so_type`` (uint8), ``so_state`` (int32).

The list is ``qtailq("sockets", ..., marker=Marker(more=(42,), end=0))``.

History of ``slirp``:

* v2 (minimum 1): sockets, ``ip_id``.
* v3 (minimum 1): + ``bootp_clients`` (16 x struct, field version 3).
"""

from __future__ import annotations

from harness.catalog import register
from harness.dsl import buffer, device, int32, qtailq, struct_array, uint8, uint16, uint32
from harness.model import DeviceHistory, Marker

__all__ = ["SOCKET_MARKER", "SLIRP_SOCKET", "BOOTP_CLIENT", "SLIRP"]

#: 42 before each socket, 0 at the end (libslirp's framing).
SOCKET_MARKER = Marker(more=(42,), end=0)

_INET = {"field": "so_ffamily", "op": "eq", "value": 2}
_INET6 = {"field": "so_ffamily", "op": "eq", "value": 10}
_LINET = {"field": "so_lfamily", "op": "eq", "value": 2}
_LINET6 = {"field": "so_lfamily", "op": "eq", "value": 10}

SLIRP_SOCKET = device(
    "slirp-socket", 4,
    uint32("so_urgc"),
    uint16("so_ffamily"), uint32("so_faddr", exists=_INET),
    buffer("so_faddr6", 16, exists=_INET6), uint16("so_fport"),
    uint16("so_lfamily"), uint32("so_laddr", exists=_LINET),
    buffer("so_laddr6", 16, exists=_LINET6),
    uint16("so_lport"),
    uint8("so_iptos"), uint8("so_emu"), uint8("so_type"), int32("so_state"),
    minimum=4)

BOOTP_CLIENT = device("slirp-bootp-client", 1, uint16("allocated"), buffer("macaddr", 6))

_V2 = (qtailq("sockets", SLIRP_SOCKET, marker=SOCKET_MARKER), uint16("ip_id", version=2))

SLIRP = register(DeviceHistory(
    "slirp",
    (
        device("slirp", 2, *_V2, minimum=1),
        device("slirp", 3, *_V2, struct_array("bootp_clients", BOOTP_CLIENT, 16, version=3),
               minimum=1),
    ),
    doc=__doc__ or "",
))
