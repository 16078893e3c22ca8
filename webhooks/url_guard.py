"""The URL guard: endpoint URLs that resolve to private, loopback, link-local, multicast,
reserved or unspecified addresses, or name a port outside WEBHOOKS_ALLOWED_PORTS (443), are
refused (unless WEBHOOKS_ALLOW_PRIVATE_URLS, which lifts both), at registration and again
before every attempt (no redirect is ever followed); the connection then goes to the address just
checked (:class:`Target`), so a DNS answer that changes in between cannot redirect it."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from mediation.errors import RuleViolation


class UrlNotAllowed(RuleViolation):
    code = "webhook_url_not_allowed"
    title = "The endpoint URL is not allowed"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str | None  # the checked address to connect to (None: let the resolver pick)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlNotAllowed(f"The host {host!r} does not resolve ({exc}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, resolve: bool = True) -> Target:
    """Parse and check an endpoint URL; raises :class:`UrlNotAllowed` (422).

    Only http and https, no credentials in the URL, and (unless private URLs are allowed)
    https only, on a port of WEBHOOKS_ALLOWED_PORTS (code ``webhook_port_not_allowed``), to
    a host whose every address is public.
    """
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlNotAllowed("The URL cannot be parsed.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlNotAllowed("Endpoint URLs use https (or http in development).")
    if not allow_private and scheme != "https":
        raise UrlNotAllowed("Endpoint URLs must use https.")
    if parts.username is not None or parts.password is not None:
        raise UrlNotAllowed("Put no credentials in the URL; verify the signature instead.")
    host = parts.hostname
    if not host:
        raise UrlNotAllowed("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    if not allow_private and port not in settings.WEBHOOKS_ALLOWED_PORTS:
        allowed = ", ".join(str(p) for p in sorted(settings.WEBHOOKS_ALLOWED_PORTS))
        raise UrlNotAllowed(
            f"Endpoint URLs may use port {allowed} only, not {port}.",
            code="webhook_port_not_allowed",
            port=port,
            allowed_ports=sorted(settings.WEBHOOKS_ALLOWED_PORTS),
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    address = None
    if resolve:
        addresses = _resolve(host, port)
        if not allow_private:
            bad = [a for a in addresses if _forbidden_address(a)]
            if bad or not addresses:
                raise UrlNotAllowed(
                    f"The host {host!r} resolves to a private, loopback or otherwise "
                    "non-public address; webhooks go to public addresses only."
                )
        address = addresses[0] if addresses else None
    return Target(scheme, host, port, path, address)
