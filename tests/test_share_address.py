"""studio.share_address: where a shared link leads, and who can open it."""

from __future__ import annotations

import pytest

from studio.settings import Settings
from studio.share_address import public_base, reach_of, share_address

PATH = "/review?token=abc"


def test_a_public_address_set_starts_every_link_whatever_the_browser_is_on() -> None:
    shared = share_address(
        PATH, public_url="https://studio.example.com/team", browser_url="http://127.0.0.1:8501/"
    )
    assert shared.url == "https://studio.example.com/team/review?token=abc"
    assert shared.reach == "public"


@pytest.mark.parametrize(
    ("browser_url", "reach"),
    [
        ("http://127.0.0.1:8501/boards", "this_computer"),
        ("http://localhost:8501/", "this_computer"),
        ("http://[::1]:8501/", "this_computer"),
        ("http://0.0.0.0:8501/", "this_computer"),
        ("http://192.168.1.20:8501/", "network"),
        ("http://10.0.0.5/", "network"),
        ("http://[fd12::5]:8501/", "network"),
        ("http://designer-laptop.local:8501/", "network"),
        ("http://studio:8501/", "network"),
        ("https://studio.example.com/", "public"),
        ("https://93.184.216.34/", "public"),
    ],
)
def test_without_it_the_browsers_address_says_who_can_open_the_link(
    browser_url: str, reach: str
) -> None:
    shared = share_address(PATH, public_url=None, browser_url=browser_url)
    assert shared.reach == reach
    assert shared.url.endswith(PATH) and shared.url.startswith(browser_url.split("/")[0])


def test_without_a_browser_the_link_is_the_path_alone() -> None:
    assert share_address(PATH, public_url=None, browser_url=None).url == PATH
    assert reach_of("LOCALHOST.") == "this_computer"


def test_the_public_address_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert public_base("  https://studio.example.com/  ") == "https://studio.example.com"
    assert public_base("") is None
    for wrong in ("studio.example.com", "ftp://studio.example.com", "https://x.com/?a=1"):
        with pytest.raises(ValueError, match="STUDIO_PUBLIC_URL"):
            public_base(wrong)
    monkeypatch.setenv("STUDIO_PUBLIC_URL", "https://studio.example.com/")
    assert Settings().studio_public_url == "https://studio.example.com"
