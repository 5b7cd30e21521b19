"""The Left and Right arrow keys, heard on the whole page, and a finger's swipe across it,
for stepping through images."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.arrow_keys", js=(Path(__file__).parent / "arrow_keys.js").read_text()
)
_STEPS = {"previous": -1, "next": 1}


def pressed(
    key: str,
    *,
    on_step: Callable[[int], None] | None = None,
    prefetch: Sequence[str] = (),
) -> int:
    """-1 when Left was just pressed (or a finger swiped to the right), +1 for Right (or
    a swipe to the left), else 0.

    `on_step` is called with the step before the run (as a button's on_click is), so what
    it changes is seen by everything the run draws. `prefetch`: addresses of pictures a
    step would show, for the browser to fetch ahead."""

    def stepped() -> None:
        if on_step is not None:
            step = _STEPS.get(str((st.session_state.get(key) or {}).get("step") or ""), 0)
            if step:
                on_step(step)

    result = _component(
        key=key, data=component_data({"prefetch": list(prefetch)}), on_step_change=stepped
    )
    return _STEPS.get(result.step or "", 0)
