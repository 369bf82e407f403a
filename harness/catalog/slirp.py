"""User-mode networking (``slirp``): sockets framed by a 42 marker, and a marshal.

QEMU/libslirp facts (``slirp/src/state.c``; ``slirp_state_save``): for each
guest-forward socket the byte **42**, then the socket
(``vmstate_slirp_socket``); a byte **0** ends the list; then
``vmstate_slirp``: ``ip_id`` (uint16, field version 2) and the 16 BOOTP
clients (``allocated`` uint16, ``macaddr`` 6 bytes; field version 3). The
section is version 4. The list is ``qtailq("sockets", ...,
marker=Marker(more=(42,), end=0))``. (QEMU's loader, ``while
(qemu_get_byte(f))``, accepts any nonzero byte before a socket; vmcompat is
stricter and refuses anything but 42 as a bad marker.)

The socket is loaded with the *section's* version (``slirp_state_load``
passes ``version_id`` down), and version 4 changed it: before v4 the foreign
and local IPv4 address and port were plain fields (``so_faddr``,
``so_laddr``: uint32; ``so_fport``, ``so_lport``: uint16, all behind the test
``slirp_older_than_v4``); since v4 they are the ``fhost``/``lhost`` structs
(``slirp-socket-addr``: a portable ``ss_family`` — 2 for IPv4, 10 for IPv6 —
then ``sin_addr``/``sin_port`` only when the family is IPv4: exists-tests).
Nested versions never travel in vmcompat's model, so the old socket layout is
a *versioned marshal function* (``slirp-v3``) here: it reads v1–v3 streams with
the v3 layout and converts each socket (family 2). The socket's buffers are
the two ``slirp-sbuf`` structs (``sb_cc``, ``sb_datalen``, the write/read
offsets, and ``sb_data``: a uint8 variable array counted by ``sb_datalen``,
a ``VMSTATE_VBUFFER_UINT32``); the TCP control block is reduced to a few of
its fields (``t_state`` and the four ``t_timer`` as int16, ``t_maxseg``,
``snd_una``, ``rcv_nxt``).

History of ``slirp``:

* v3 (minimum 1): sockets with the pre-v4 address fields, ``ip_id``,
  ``bootp_clients``.
* v4 (minimum 4, marshal ``slirp-v3`` for 1–3): sockets with ``fhost`` and
  ``lhost``.
"""

from __future__ import annotations

from typing import Any

from vmcompat.catalog import register
from vmcompat.dsl import (
    buffer,
    device,
    int16,
    int32,
    qtailq,
    struct,
    struct_array,
    uint8,
    uint16,
    uint32,
)
from vmcompat.marshal import Marshal
from vmcompat.marshal import register as register_marshal
from vmcompat.model import Description, DeviceHistory, Field, Marker

__all__ = ["SOCKET_MARKER", "SOCKET_ADDR", "SBUF", "TCPCB", "SLIRP_SOCKET_V3", "SLIRP_SOCKET",
           "BOOTP_CLIENT", "SLIRP"]

#: 42 before each socket, 0 at the end (libslirp's framing).
SOCKET_MARKER = Marker(more=(42,), end=0)

AF_INET_PORTABLE = 2
_INET = {"field": "ss_family", "op": "eq", "value": AF_INET_PORTABLE}

SOCKET_ADDR = device("slirp-socket-addr", 4, uint16("ss_family"),
                     uint32("sin_addr", exists=_INET), uint16("sin_port", exists=_INET))

SBUF = device("slirp-sbuf", 0, uint32("sb_cc"), uint32("sb_datalen"), uint32("woff"),
              uint32("roff"), uint8("sb_data", varray="sb_datalen"))

TCPCB = device("slirp-tcp", 4, int16("t_state"), int16("t_timer", array=4), uint16("t_maxseg"),
               uint32("snd_una"), uint32("rcv_nxt"))


def _socket(version: int, address: tuple[Field, ...]) -> Description:
    return device("slirp-socket", version, uint32("so_urgc"), *address,
                  uint8("so_iptos"), uint8("so_emu"), uint8("so_type"), int32("so_state"),
                  struct("so_rcv", SBUF), struct("so_snd", SBUF), struct("so_tcpcb", TCPCB))


SLIRP_SOCKET_V3 = _socket(3, (uint32("so_faddr"), uint32("so_laddr"), uint16("so_fport"),
                              uint16("so_lport")))
SLIRP_SOCKET = _socket(4, (struct("fhost", SOCKET_ADDR), struct("lhost", SOCKET_ADDR)))

BOOTP_CLIENT = device("slirp_bootpclient", 0, uint16("allocated"), buffer("macaddr", 6))


def _slirp(version: int, socket: Description, **kw: Any) -> Description:
    return device("slirp", version, qtailq("sockets", socket, marker=SOCKET_MARKER),
                  uint16("ip_id", version=2),
                  struct_array("bootp_clients", BOOTP_CLIENT, 16, version=3), **kw)


_V3 = _slirp(3, SLIRP_SOCKET_V3, minimum=1)


def _addr(addr: int, port: int) -> dict[str, int]:
    return {"ss_family": AF_INET_PORTABLE, "sin_addr": addr, "sin_port": port}


def _convert_v3(old: dict[str, Any], prior: Any) -> dict[str, Any]:
    """v1-v3 state -> v4 state: IPv4 address/port fields become ``fhost``/``lhost``."""
    new = dict(prior) if isinstance(prior, dict) else {}
    socks = []
    for so in old["sockets"]:
        s = {k: v for k, v in so.items() if k not in ("so_faddr", "so_laddr", "so_fport",
                                                        "so_lport")}
        s["fhost"] = _addr(so["so_faddr"], so["so_fport"])
        s["lhost"] = _addr(so["so_laddr"], so["so_lport"])
        socks.append(s)
    new["sockets"] = socks
    for k in ("ip_id", "bootp_clients"):
        if k in old:
            new[k] = old[k]
    return new


SLIRP_V3_MARSHAL = register_marshal(Marshal(
    "slirp-v3", _V3, _convert_v3,
    doc="slirp v1-v3: sockets with plain IPv4 address/port fields (slirp_older_than_v4)"))

SLIRP = register(DeviceHistory(
    "slirp",
    (_V3, _slirp(4, SLIRP_SOCKET, minimum=4, marshal={1: "slirp-v3", 2: "slirp-v3",
                                                       3: "slirp-v3"})),
    doc=__doc__ or "",
))
