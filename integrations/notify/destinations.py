"""Where a bot's webhooks may go: an https URL, without userinfo, to a public address; or a host the allow-list
names (`WT_CALLBACK_ALLOW`), which may also be plain http.

A callback URL is the bot's to choose, and the server POSTs signed events to it: without these rules a bot key could
make the server reach its own loopback services, the private network, or a cloud's metadata service. Addresses are
judged with the stdlib `ipaddress` module after the system resolver has turned the host into addresses, so every
spelling a URL parser or `getaddrinfo` accepts (`127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, a name that
resolves to 10.0.0.1) is judged by the address it reaches. The API checks a URL when a transfer starts; the webhook
dispatcher checks again when it connects, and connects to the very address it checked (no DNS-rebinding gap).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

IPAddress = IPv4Address | IPv6Address


class RefusedDestination(Exception):
    """A callback URL or address the rules do not allow: sending to it again would be refused again."""


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local (cloud metadata at 169.254.169.254 included),
    CGNAT, unique-local (fd00:ec2::254 included), multicast, unspecified, reserved or documentation. An IPv4 address
    carried inside an IPv6 one (`::ffff:a.b.c.d`, 6to4) is judged as the IPv4 address it reaches."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def allow_list_entry(entry: str) -> str:
    """`entry` (a host name, an address, or a network such as `127.0.0.0/8`) as the allow-list keeps it; a
    ValueError for anything else."""
    entry = entry.strip().lower()
    try:
        return str(ip_network(entry))
    except ValueError:
        if "/" in entry:  # meant as a network: say what is wrong with it (host bits set, a bad prefix)
            raise
    labels = entry.rstrip(".").split(".")
    if not entry or not all(label and len(label) <= 63 and label.replace("-", "").isalnum()
                                            for label in labels):
        raise ValueError(f"{entry!r} is neither a host name, an IP address nor a network (such as 10.0.0.0/8)")
    return entry.rstrip(".")


class CallbackPolicy:
    """The rules above, with the operator's allow-list: host names (matched exactly), and addresses or networks."""

    def __init__(self, allowed: Iterable[str] = ()):
        entries = [allow_list_entry(entry) for entry in allowed]
        self.networks: list[IPv4Network | IPv6Network] = []
        self.hosts: set[str] = set()
        for entry in entries:
            try:
                self.networks.append(ip_network(entry))
            except ValueError:
                self.hosts.add(entry)

    def check_url(self, url: str) -> httpx.URL:
        """The URL parsed, if its form is allowed (the scheme, no userinfo, a host); RefusedDestination if not.
        Plain http is for allow-listed hosts only: a name the allow-list names, or an address in an allowed
        network."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise RefusedDestination(f"not a URL: {exc}") from exc
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise RefusedDestination("must be an https URL")
        if parsed.userinfo:
            raise RefusedDestination("must not carry a user name or password")
        if parsed.scheme == "http" and not self._allow_listed(parsed.host):
            raise RefusedDestination("must be https (plain http only to a host WT_CALLBACK_ALLOW names)")
        return parsed

    def checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to, if each may be sent to; RefusedDestination if any may not (a name that
        leads to a private address is not a public destination, even in part). A socket.gaierror if it does not
        resolve."""
        addresses = list(dict.fromkeys(_address(info[4][0]) for info in socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM)))
        refused = [address for address in addresses if not self._permits(host, address)]
        if refused:
            raise RefusedDestination(f"{host} is {', '.join(map(str, refused))}: not a public address (and not "
                                     f"in WT_CALLBACK_ALLOW)")
        return addresses

    def _permits(self, host: str, address: IPAddress) -> bool:
        return is_public(address) or self._allow_listed(host, address)

    def _allow_listed(self, host: str, address: IPAddress | None = None) -> bool:
        host = host.strip("[]").lower().rstrip(".")
        if host in self.hosts:
            return True
        if address is None:
            try:
                address = ip_address(host)
            except ValueError:
                return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # the IPv4 address it reaches
        return any(address in network for network in self.networks)


def _address(text: str) -> IPAddress:
    return ip_address(text.split("%", 1)[0])  # an IPv6 link-local address comes with its interface: fe80::1%eth0
