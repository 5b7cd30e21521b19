"""The studio's look: both lights of the theme readable (WCAG AA), and its CSS in step with them."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from components.appearance import CSS_FILE
from tests.app_support import APP_FILE

CONFIG = APP_FILE.parent / ".streamlit" / "config.toml"
AA = 4.5  # normal-size text
COLOUR_VARIABLE = r"--studio-(accent|on-accent|background):\s*(#[0-9A-Fa-f]{6})"


def themes() -> dict[str, dict[str, Any]]:
    theme = tomllib.loads(CONFIG.read_text())["theme"]
    return {light: theme[light] for light in ("light", "dark")}


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[at : at + 2], 16) / 255 for at in (0, 2, 4)]
        red, green, blue = (
            value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
            for value in channels
        )
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    darker, lighter = sorted((luminance(first), luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


def css_accents() -> dict[str, dict[str, str]]:
    """--studio-accent, --studio-on-accent and --studio-background as the CSS sets them,
    for light and dark."""
    css = CSS_FILE.read_text()
    dark_at = css.index("@media (prefers-color-scheme: dark)")
    found = {}
    for light, part in (("light", css[:dark_at]), ("dark", css[dark_at:])):
        found[light] = dict(re.findall(COLOUR_VARIABLE, part))
    return found


@pytest.mark.parametrize("light", ["light", "dark"])
def test_text_links_and_the_accent_read_at_aa_on_both_backgrounds(light: str) -> None:
    theme = themes()[light]
    sidebar = theme["sidebar"]
    backgrounds = {
        "background": theme["backgroundColor"],
        "secondary background": theme["secondaryBackgroundColor"],
        "sidebar": sidebar["backgroundColor"],
        "sidebar's secondary background": sidebar["secondaryBackgroundColor"],
    }
    foregrounds = {
        "text": theme["textColor"],
        "link": theme["linkColor"],
        "accent": theme["primaryColor"],
    }
    too_faint = {
        f"{fore} on {back}": round(contrast(colour, ground), 2)
        for fore, colour in foregrounds.items()
        for back, ground in backgrounds.items()
        if contrast(colour, ground) < AA
    }
    assert too_faint == {}


@pytest.mark.parametrize("light", ["light", "dark"])
def test_the_css_uses_the_themes_accent_and_words_on_it_read_at_aa(light: str) -> None:
    accents = css_accents()[light]
    assert accents["accent"] == themes()[light]["primaryColor"]
    # What the studio paints behind text of its own (the review's pinned verdict bar).
    assert accents["background"] == themes()[light]["backgroundColor"]
    assert contrast(accents["on-accent"], accents["accent"]) >= AA
