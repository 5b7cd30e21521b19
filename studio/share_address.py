"""Where a shared link leads, and who can open it.

With STUDIO_PUBLIC_URL set, every shared link starts with it. Without it, a link starts
with the address the sharer's browser is on, which may be one only this computer
(127.0.0.1, localhost) or only this network (192.168.x.x, a .local name) can reach: the
share form says so, and how to fix it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Reach = Literal["public", "network", "this_computer", "unknown"]
# Names that only a local network resolves (RFC 6762 .local, and common home/office ones).
_LOCAL_SUFFIXES = (".local", ".lan", ".home", ".internal", ".localdomain", ".home.arpa")


@dataclass(frozen=True)
class ShareAddress:
    url: str  # absolute when the studio's address is known, else the path alone
    host: str  # "" when unknown
    reach: Reach


def public_base(value: str) -> str | None:
    """STUDIO_PUBLIC_URL as links start with it: http(s), a host, no trailing slash;
    None when blank. ValueError (said at start) for anything else."""
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(
            "STUDIO_PUBLIC_URL must be the studio's address as people outside reach it, "
            f"such as https://studio.example.com (got {value!r})"
        )
    return value.rstrip("/")


def share_address(path: str, *, public_url: str | None, browser_url: str | None) -> ShareAddress:
    """The link to `path` (which starts with "/") to give to other people."""
    if public_url:
        return ShareAddress(public_url + path, urlsplit(public_url).hostname or "", "public")
    parts = urlsplit(browser_url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ShareAddress(path, "", "unknown")
    return ShareAddress(
        f"{parts.scheme}://{parts.netloc}{path}", parts.hostname, reach_of(parts.hostname)
    )


def reach_of(host: str) -> Reach:
    """Who can open an address on `host`: this computer, this network, or anyone."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "this_computer"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # A name: one without a dot, or under a local suffix, resolves only nearby.
        return "network" if "." not in host or host.endswith(_LOCAL_SUFFIXES) else "public"
    if address.is_loopback or address.is_unspecified:
        return "this_computer"
    if address.is_private or address.is_link_local:
        return "network"
    return "public"
