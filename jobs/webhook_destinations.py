"""Where webhooks may be sent: a guard against requests to internal services (SSRF).

Every address a webhook host resolves to is checked before each attempt:

* link-local addresses and cloud metadata endpoints (169.254.0.0/16, fe80::/10,
  fd00:ec2::254, 100.100.100.200) are never allowed;
* private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10...) are allowed
  only when listed in the ``webhook_allowed_networks`` setting;
* loopback is allowed (the local receiver of the demo and of tests) unless
  ``webhook_allow_loopback: false``;
* unspecified, multicast and reserved addresses are never allowed.

A denied delivery is dead-lettered at once with the reason (retrying cannot help).

DNS rebinding: a host name is resolved **once** per attempt (:meth:`DestinationPolicy.pin`),
every address is checked, and the request is sent to the checked address itself
(the URL's host replaced by the IP) with the original ``Host`` header and TLS
server name (SNI and certificate check against the name). A name whose answer
changes between the check and the connection cannot reach a denied address,
because the connection never asks DNS again.

>>> DestinationPolicy().problem("http://169.254.169.254/latest/meta-data")
'webhook destination 169.254.169.254 is a link-local or cloud metadata address; these are never allowed'
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from monitor.redaction import redact_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` in the resolver's order (duplicates removed)."""
    found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
    return list(dict.fromkeys(found))


class DestinationDenied(Exception):
    """A webhook destination the policy does not allow (``str(err)`` says why, URL redacted)."""


@dataclass(frozen=True)
class PinnedDestination:
    """Where one attempt connects: the checked address, with the name it was asked for.

    >>> p = DestinationPolicy().pin("https://hooks.test:8443/x?a=1", resolve=lambda h, p: ["127.0.0.1"])
    >>> p.url, p.host_header, p.sni_hostname
    ('https://127.0.0.1:8443/x?a=1', 'hooks.test:8443', 'hooks.test')
    """

    url: str
    host_header: str
    sni_hostname: str | None
    address: str


@dataclass(frozen=True)
class DestinationPolicy:
    """Which webhook destinations are allowed (see the module docstring)."""

    allowed_networks: tuple[Network, ...] = ()
    allow_loopback: bool = True

    @classmethod
    def from_settings(cls, networks: Sequence[str], allow_loopback: bool) -> DestinationPolicy:
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks), allow_loopback)

    def address_problem(self, ip: IPAddress) -> str | None:
        """Why ``ip`` may not receive webhooks, or ``None``."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in METADATA or ip.is_link_local:
            return f"webhook destination {ip} is a link-local or cloud metadata address; these are never allowed"
        if any(ip in net for net in self.allowed_networks):
            return None
        if ip.is_loopback:
            if self.allow_loopback:
                return None
            return f"webhook destination {ip} is loopback and webhook_allow_loopback is false"
        if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            return f"webhook destination {ip} is not a unicast address"
        if ip.is_private or ip in ipaddress.ip_network("100.64.0.0/10"):
            return (f"webhook destination {ip} is in a private range; list its network in the "
                    "webhook_allowed_networks setting to allow it")  # fmt: skip
        return None

    def problem(self, url: str, resolve: Resolver = _resolve) -> str | None:
        """Why ``url`` may not receive webhooks, or ``None`` (DNS failures are not judged here)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            addresses = (
                [host]
                if _is_ip(host)
                else resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
            )
        except OSError:
            return None  # cannot resolve now: the attempt fails and is retried as usual
        return self._addresses_problem(url, host, addresses)

    def _addresses_problem(self, url: str, host: str, addresses: Sequence[str]) -> str | None:
        for address in addresses:
            found = self.address_problem(ipaddress.ip_address(address.split("%", 1)[0]))
            if found:
                return found if _is_ip(host) else f"{found} ({redact_url(url)} resolves to it)"
        return None

    def pin(self, url: str, resolve: Resolver = _resolve) -> PinnedDestination:
        """Resolve ``url``'s host once, check every address, and pin the first for the connection.

        Raises :class:`DestinationDenied` when an address is not allowed and
        ``OSError`` when the name does not resolve (the attempt is retried).
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        addresses = (
            [host]
            if _is_ip(host)
            else resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
        )
        if not addresses:
            raise OSError(f"{host!r} resolves to no address")
        problem = self._addresses_problem(url, host, addresses)
        if problem:
            raise DestinationDenied(problem)
        address = addresses[0].split("%", 1)[0]
        host_literal = f"[{host}]" if ":" in host else host
        return PinnedDestination(
            url=_pinned_url(parts, address),
            host_header=host_literal if parts.port is None else f"{host_literal}:{parts.port}",
            sni_hostname=None if _is_ip(host) else host,
            address=address,
        )


def _pinned_url(parts: SplitResult, address: str) -> str:
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
