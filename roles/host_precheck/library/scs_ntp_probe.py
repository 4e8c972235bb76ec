#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache-2.0
"""Ask NTP servers for the time (one SNTP client request each, UDP 123)."""

from __future__ import annotations

import os
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: scs_ntp_probe
short_description: Check that NTP servers answer
description:
  - Sends one SNTPv4 client request to each server and reads the answer.
  - A server counts as usable when it answers in time with a stratum between 1 and 15
    and is not unsynchronised (leap indicator 3).
  - Read-only; always reports C(changed=false).
options:
  servers:
    description: Host names or addresses of the NTP servers.
    type: list
    elements: str
    required: true
  port:
    description: UDP port.
    type: int
    default: 123
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 2.0
author: scs-deploy contributors
"""

RETURN = r"""
servers:
  description: One entry per server, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    server: {description: Name as given, type: str}
    usable: {description: Whether the server answered with a usable time, type: bool}
    stratum: {description: Stratum of the answer (0 when none), type: int}
    offset: {description: Clock offset to the server in seconds, type: float}
    error: {description: Why the server is not usable, empty when usable, type: str}
usable:
  description: Names of the usable servers.
  returned: always
  type: list
  elements: str
"""

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def _to_ntp(ts: float) -> bytes:
    secs = int(ts) + NTP_EPOCH_OFFSET
    frac = int((ts % 1) * 2**32)
    return struct.pack("!II", secs & 0xFFFFFFFF, frac)


def _from_ntp(data: bytes) -> float:
    secs, frac = struct.unpack("!II", data)
    return secs - NTP_EPOCH_OFFSET + frac / 2**32


def build_request(now: float) -> bytes:
    """An SNTPv4 client request (LI 0, VN 4, mode 3) with transmit timestamp now."""
    packet = bytearray(48)
    packet[0] = (0 << 6) | (4 << 3) | 3
    packet[40:48] = _to_ntp(now)
    return bytes(packet)


def parse_reply(reply: bytes, request: bytes, t_send: float, t_recv: float) -> dict[str, object]:
    """Check an answer against the request; return stratum, offset and an error text."""
    if len(reply) < 48:
        return {"stratum": 0, "offset": 0.0, "error": f"short answer ({len(reply)} bytes)"}
    leap, mode, stratum = reply[0] >> 6, reply[0] & 7, reply[1]
    if mode not in (4, 5):
        return {"stratum": stratum, "offset": 0.0, "error": "answer is not a server reply"}
    if reply[24:32] != request[40:48]:
        return {"stratum": stratum, "offset": 0.0, "error": "answer does not match the request"}
    if stratum == 0:
        return {
            "stratum": 0,
            "offset": 0.0,
            "error": "server sent kiss-of-death {!r}".format(
                reply[12:16].decode("ascii", "replace")
            ),
        }
    if stratum > 15 or leap == 3:
        return {"stratum": stratum, "offset": 0.0, "error": "server is not synchronised"}
    t2 = _from_ntp(reply[32:40])
    t3 = _from_ntp(reply[40:48])
    offset = ((t2 - t_send) + (t3 - t_recv)) / 2
    return {"stratum": stratum, "offset": round(offset, 6), "error": ""}


def query(server: str, port: int, timeout: float) -> dict[str, object]:
    result: dict[str, object] = {"server": server, "usable": False, "stratum": 0, "offset": 0.0}
    try:
        infos = socket.getaddrinfo(server, port, proto=socket.IPPROTO_UDP)
    except socket.gaierror as exc:
        result["error"] = f"does not resolve: {exc.strerror}"
        return result
    family, socktype, proto, _, addr = infos[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.settimeout(timeout)
        t_send = time.time()
        # random low bits in the transmit timestamp make replies unique to this request
        request = bytearray(build_request(t_send))
        request[44:48] = os.urandom(4)
        try:
            sock.sendto(bytes(request), addr)
            reply, _ = sock.recvfrom(512)
        except OSError as exc:  # timeout, unreachable
            result["error"] = f"no answer on udp/{port} from {addr[0]}: {exc or 'timeout'}"
            return result
        t_recv = time.time()
    result.update(parse_reply(reply, bytes(request), t_send, t_recv))
    result["usable"] = result["error"] == ""
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "servers": {"type": "list", "elements": "str", "required": True},
            "port": {"type": "int", "default": 123},
            "timeout": {"type": "float", "default": 2.0},
        },
        supports_check_mode=True,
    )
    results = [
        query(s, module.params["port"], module.params["timeout"]) for s in module.params["servers"]
    ]
    module.exit_json(
        changed=False, servers=results, usable=[r["server"] for r in results if r["usable"]]
    )


if __name__ == "__main__":
    main()
