"""studio.credentials: a key is named in the store by a fingerprint, never by itself."""

from __future__ import annotations

import pytest

from studio.credentials import DEMO_KEY_ID, Backend, Credentials

FOXAPI = "https://api.foxapi.cc"
KEY = "sk-a-real-looking-secret-key-0123456789"


def test_the_same_key_has_the_same_id_wherever_it_is_sent() -> None:
    first = Credentials(Backend.FOXAPI, FOXAPI, KEY)
    again = Credentials(Backend.FOXAPI, "http://127.0.0.1:8765", KEY)

    assert first.key_id == again.key_id
    assert first.key_id != Credentials(Backend.FOXAPI, FOXAPI, KEY + "x").key_id


@pytest.mark.parametrize("key", [KEY, "sk-1", "key-0123456789abcdef"])
def test_a_key_id_never_contains_the_key(key: str) -> None:
    credentials = Credentials(Backend.FOXAPI, FOXAPI, key)

    assert key not in credentials.key_id
    assert credentials.key_id.startswith("key-")
    assert len(credentials.key_id) == len("key-") + 16
    assert key not in repr(credentials)


def test_every_demo_key_is_the_demo() -> None:
    # The demo backend gets a new random key at each start; its jobs must still be found.
    ids = {Credentials(Backend.DEMO, "http://127.0.0.1:1", key).key_id for key in ("a", "b")}

    assert ids == {DEMO_KEY_ID}
    assert Credentials(Backend.FOXAPI, FOXAPI, "demo").key_id != DEMO_KEY_ID


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.foxapi.cc", "api.foxapi.cc"),
        ("https://api.foxapi.cc/", "api.foxapi.cc"),
        ("http://127.0.0.1:8765", "127.0.0.1:8765"),
    ],
)
def test_the_host_is_named_without_scheme_or_slash(base_url: str, host: str) -> None:
    assert Credentials(Backend.FOXAPI, base_url, KEY).host == host
