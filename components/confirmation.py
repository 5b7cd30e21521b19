"""Asking before a click bills more images than the studio's confirmation threshold.

Generate's sweeps and an image's More like this ask the same way: the price in full, with
Send N images and Cancel (STUDIO_CONFIRM_ABOVE_IMAGES sets the threshold).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import frame
from components.text import plural


def above_threshold(images: int) -> bool:
    """Whether a click billing `images` images waits for a yes first."""
    return images > frame.studio().settings.studio_confirm_above_images


def ask(
    *,
    key: str,
    jobs: int,
    images: int,
    price: str,
    sweep: bool,
    demo: bool,
    on_confirm: Callable[[], None],
    on_cancel: Callable[[], None],
) -> None:
    """The price in full and the two buttons, `{key}-confirm` and `{key}-cancel`."""
    with st.container(border=True):
        what = "This sweep sends" if sweep else "This sends"
        st.warning(
            f"{what} {plural(jobs, 'job')}: {price}"
            + (" (drawn by the demo backend, nothing billed)." if demo else ", billed by FoxAPI."),
            icon=":material/payments:",
        )
        confirm, cancel = st.columns(2)
        confirm.button(
            f"Send {plural(images, 'image')}",
            key=f"{key}-confirm",
            type="primary",
            on_click=on_confirm,
        )
        cancel.button("Cancel", key=f"{key}-cancel", on_click=on_cancel)
