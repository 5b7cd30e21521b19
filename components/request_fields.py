"""The settings shared by Generate and Edit: aspect ratio, format, number of images.

They sit outside any form so the billing line follows the chosen number at once (on
Generate the prompt too, so its `{a|b}` variants are priced before the click).
Values persist for the session, so leaving a page and coming back keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components import frame
from components.text import escape_markdown
from studio import formats, sweeps
from studio.credentials import Backend, Credentials
from studio.request import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    MAX_OUTPUTS,
    RATIO_PIXELS,
    InvalidRequest,
)


def _ratio_label(ratio: str) -> str:
    """The ratio after an icon of its shape: wide, landscape, square, portrait or tall."""
    width, height = RATIO_PIXELS[ratio]
    shape = width / height
    if shape >= 1.7:
        icon = "crop_16_9"
    elif shape > 1:
        icon = "crop_landscape"
    elif shape == 1:
        icon = "crop_square"
    elif shape > 0.6:
        icon = "crop_portrait"
    else:
        icon = "crop_9_16"
    return f":material/{icon}: {ratio}"


def _shape(ratio: str) -> str:
    width, height = RATIO_PIXELS[ratio]
    shape = "landscape" if width > height else "portrait" if width < height else "square"
    return f"{width} x {height} px, {shape}"


def ratio_picker(key: str) -> str:
    """All 13 ratios, widest first, each marked landscape, square or portrait."""
    st.session_state.setdefault(key, DEFAULT_ASPECT_RATIO)
    ratio = st.pills(
        "Aspect ratio",
        ASPECT_RATIOS,
        required=True,
        format_func=_ratio_label,
        key=key,
        persist_state="session",
        wrap=True,
    )
    ratio = ratio or DEFAULT_ASPECT_RATIO
    st.caption(_shape(ratio))
    return ratio


def format_picker(key: str) -> str | None:
    """The chosen format, or None for Auto (nothing sent: FoxAPI's default)."""
    st.session_state.setdefault(key, formats.AUTO)
    choice = st.segmented_control(
        "Format",
        formats.FORM_CHOICES,
        required=True,
        format_func=formats.label,
        key=key,
        persist_state="session",
        help="Auto leaves the choice to FoxAPI (JPEG).",
    )
    return None if choice in (None, formats.AUTO) else choice


def count_picker(key: str) -> int:
    st.session_state.setdefault(key, 1)
    count = st.segmented_control(
        "Images",
        list(range(1, MAX_OUTPUTS + 1)),
        required=True,
        key=key,
        persist_state="session",
    )
    return int(count or 1)


def more_ratios_picker(key: str, chosen: str) -> list[str]:
    """Further ratios to send the same prompt in, each its own job (a sweep)."""
    others = [ratio for ratio in ASPECT_RATIOS if ratio != chosen]
    more = st.multiselect(
        "Also in these ratios",
        others,
        key=key,
        placeholder="None: just the ratio above",
        help="Each ratio is a job of its own, billed as such. The results show as a grid.",
    )
    return [ratio for ratio in more if ratio in others]


def billed_line(
    count: int,
    credentials: Credentials,
    *,
    ratios: Sequence[str | None] = (None,),
    prompt: str = "",
) -> int | None:
    """What a click bills, before the click: images, times the ratios and the prompt's
    `{a|b}` variants. Returns the images it said, or None when the sweep cannot be sent
    (then it says why, as the click would)."""
    try:
        plan = sweeps.plan(prompt, list(ratios), count)
    except InvalidRequest as exc:
        st.caption(escape_markdown(exc.message))
        return None
    price = plan.price_line()
    if credentials.backend is Backend.DEMO:
        st.caption(f"{price} will be drawn. The demo backend bills nothing.")
    else:
        left = frame.studio().people.allowance().words()
        st.caption(f"{price} will be billed by FoxAPI." + (f" {left}." if left else ""))
    return plan.images
