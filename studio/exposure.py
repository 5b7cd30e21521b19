"""Whether the studio is open to people who could spend its FoxAPI key.

A server with a key and no sign-in bills that key for anyone who can reach it. On
loopback that is only this computer; opened to a network (Streamlit's `server.address`)
it is everyone there, so every visitor's sidebar says so.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Sequence
from pathlib import Path

from studio.settings import SECRETS_FILE, Settings

# Names that resolve to loopback however the host is set up.
_LOOPBACK_NAMES = frozenset({"localhost"})

EXPOSURE_WARNING = (
    "**Anyone who can reach this address can spend the FoxAPI key** and see every prompt "
    "and input image here: this studio has a key, no sign-in, and listens beyond this "
    "computer. Add sign-in (`[auth]` in `.streamlit/secrets.toml`) or serve it on loopback "
    "only (`--server.address 127.0.0.1`)."
)


def exposure_warning(
    settings: Settings,
    server_address: str | None,
    secrets_files: Sequence[str | Path] | None = None,
) -> str | None:
    """The sidebar's warning when anyone who can reach the server can spend its key, else None.

    `server_address` is Streamlit's `server.address` option as the server runs with it
    (`st.get_option("server.address")`): empty or None means every interface.
    `secrets_files` are the files Streamlit reads `[auth]` from (its `secrets.files`
    option); None means Streamlit's default ones.
    """
    exposed = should_warn(
        key_configured=settings.api_key is not None,
        sign_in_configured=sign_in_configured(secrets_files),
        beyond_loopback=listens_beyond_loopback(server_address),
    )
    return EXPOSURE_WARNING if exposed else None


def should_warn(*, key_configured: bool, sign_in_configured: bool, beyond_loopback: bool) -> bool:
    return key_configured and not sign_in_configured and beyond_loopback


def listens_beyond_loopback(server_address: str | None) -> bool:
    """False only for an address that is certainly loopback: 127.0.0.0/8, ::1, localhost.

    Streamlit listens on every interface when the address is empty; any other host name
    may resolve to a reachable interface, so it counts as beyond loopback.
    """
    address = (server_address or "").strip().removeprefix("[").removesuffix("]")
    if not address:
        return True
    if address.lower().rstrip(".") in _LOOPBACK_NAMES:
        return False
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])  # drop an IPv6 zone
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_loopback


def sign_in_configured(secrets_files: Sequence[str | Path] | None = None) -> bool:
    """Whether any of the secrets files has an `[auth]` section Streamlit can sign in with.

    That needs `redirect_uri` and `cookie_secret`, and a provider (`[auth]` itself or a
    named `[auth.NAME]`) with a client id, a client secret and its metadata URL. A file
    that is missing, unreadable or not valid TOML configures nothing (and Streamlit
    would not sign anyone in with it either).
    """
    if secrets_files is None:
        # Streamlit's default `secrets.files`: the user's file, then the project's.
        secrets_files = (Path.home() / ".streamlit" / "secrets.toml", SECRETS_FILE)
    for path in secrets_files:
        try:
            secrets = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        auth = secrets.get("auth")
        if isinstance(auth, dict) and _complete(auth):
            return True
    return False


_SHARED_AUTH_KEYS = ("redirect_uri", "cookie_secret")
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def _complete(auth: dict[str, object]) -> bool:
    if not all(auth.get(key) for key in _SHARED_AUTH_KEYS):
        return False
    candidates = [auth, *(value for value in auth.values() if isinstance(value, dict))]
    return any(
        all(provider.get(key) or auth.get(key) for key in _PROVIDER_KEYS) for provider in candidates
    )
