"""The warning every visitor sees when anyone who can reach the studio can spend its key."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from studio.exposure import (
    EXPOSURE_WARNING,
    exposure_warning,
    listens_beyond_loopback,
    should_warn,
    sign_in_configured,
)
from studio.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (an address these tests judge; nothing is bound)
AUTH = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-long-random-string"
client_id = "studio"
client_secret = "not-a-real-secret"
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"
"""


@pytest.mark.parametrize(
    ("key_configured", "sign_in", "beyond_loopback"),
    list(itertools.product([True, False], repeat=3)),
)
def test_the_warning_shows_only_with_a_key_no_sign_in_and_an_open_address(
    tmp_path: Path, key_configured: bool, sign_in: bool, beyond_loopback: bool
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('FOXAPI_API_KEY = "sk-in-the-file"\n' + (AUTH if sign_in else ""))
    settings = Settings(foxapi_api_key="sk-live-key" if key_configured else None)
    address = EVERY_INTERFACE if beyond_loopback else "127.0.0.1"

    warning = exposure_warning(settings, address, [secrets])

    expected = key_configured and not sign_in and beyond_loopback
    assert (
        should_warn(
            key_configured=key_configured,
            sign_in_configured=sign_in,
            beyond_loopback=beyond_loopback,
        )
        is expected
    )
    assert warning == (EXPOSURE_WARNING if expected else None)


def test_the_warning_says_the_key_can_be_spent_and_how_to_close_it() -> None:
    text = EXPOSURE_WARNING.lower()
    assert "anyone who can reach this address can spend the foxapi key" in text
    assert "[auth]" in text and "--server.address 127.0.0.1" in text


def test_a_blank_key_is_no_key() -> None:
    assert exposure_warning(Settings(foxapi_api_key="   "), EVERY_INTERFACE, []) is None


@pytest.mark.parametrize(
    ("address", "beyond"),
    [
        (None, True),  # Streamlit's default: every interface
        ("", True),
        (EVERY_INTERFACE, True),
        ("::", True),
        ("192.168.1.20", True),
        ("10.0.0.5", True),
        ("fe80::1%eth0", True),
        ("studio.example.com", True),  # a name may resolve to any interface
        ("127.0.0.1", False),
        ("127.0.0.53", False),
        ("::1", False),
        ("[::1]", False),
        ("::ffff:127.0.0.1", False),
        ("localhost", False),
        (" LocalHost ", False),
    ],
)
def test_which_addresses_listen_beyond_loopback(address: str | None, beyond: bool) -> None:
    assert listens_beyond_loopback(address) is beyond


@pytest.mark.parametrize(
    ("content", "configured"),
    [
        (None, False),  # no file
        ('FOXAPI_API_KEY = "sk-x"\n', False),
        ("[auth]\n", False),  # an empty section signs nobody in
        (AUTH, True),
        ("[auth\nbroken", False),
        # Incomplete: Streamlit would refuse to sign anyone in, so the key stays open.
        ("[auth.google]\nclient_id = 'x'\n", False),
        (AUTH.replace('cookie_secret = "a-long-random-string"', ""), False),
        (
            "[auth]\nredirect_uri = 'http://x/oauth2callback'\ncookie_secret = 's'\n"
            "[auth.google]\nclient_id = 'x'\nclient_secret = 'y'\n"
            "server_metadata_url = 'https://accounts.google.com/.well-known/openid-configuration'\n",
            True,
        ),
    ],
)
def test_sign_in_is_an_auth_section_in_a_secrets_file(
    tmp_path: Path, content: str | None, configured: bool
) -> None:
    secrets = tmp_path / "secrets.toml"
    if content is not None:
        secrets.write_text(content)
    assert sign_in_configured([secrets]) is configured


def test_sign_in_in_any_of_streamlits_secrets_files_counts(tmp_path: Path) -> None:
    (tmp_path / "user.toml").write_text(AUTH)
    (tmp_path / "project.toml").write_text('FOXAPI_API_KEY = "sk-x"\n')
    assert sign_in_configured([tmp_path / "user.toml", str(tmp_path / "project.toml")])


def test_the_shipped_streamlit_config_listens_on_loopback() -> None:
    """What `./scripts/start` gets unless the operator opens it with `--server.address`."""
    probe = (
        "from streamlit import config\n"
        "config.get_config_options(force_reparse=True)\n"
        "print(config.get_option('server.address'))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "127.0.0.1"
    assert not listens_beyond_loopback(shown.stdout.strip())
