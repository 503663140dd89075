"""Who is on the other end of a console or workbench request.

Behind a reverse proxy every request comes from the proxy's address; the
sign-in throttle counts per address, so without this all operators would
share one budget and a stranger could lock them all out. X-Forwarded-For is
believed only from the proxies a deployer lists (HANDOFF_TRUSTED_PROXIES),
and read from the right: each trusted proxy appends the address it saw, so
the right-most entry that is not a trusted proxy is the client; whatever a
client wrote further left is its own claim and ignored.
"""
from __future__ import annotations

import ipaddress
from typing import List, Optional, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def parse_networks(spec: str) -> List[Network]:
    """«127.0.0.1, 10.0.0.0/8» → networks; a bad entry is a configuration error."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in (spec or "").split(",") if part.strip()]


def _trusted(address: str, networks: List[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote: Optional[str], forwarded_for: Optional[str], trusted: List[Network]) -> str:
    peer = remote or ""
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a client: fall back to what we know
    return peer
