"""Styles: saved prompt snippets, toggled on under the prompt and added to it when sent."""

from __future__ import annotations

import streamlit as st

from components import frame
from components.state import SessionValue
from components.text import escape_markdown
from studio.request import InvalidRequest

CHOSEN = "generate_styles"
_NAME, _TEXT, _SHARED = "style_name", "style_text", "style_shared"
_problem: SessionValue[str | None] = SessionValue("style_problem", lambda: None)


def picker() -> list[int]:
    """The styles toggled on, as ids; nothing when none are saved yet."""
    styles = {style.id: style for style in frame.studio().gallery.styles()}
    if not styles:
        return []
    chosen = st.pills(
        "Styles",
        list(styles),
        selection_mode="multi",
        format_func=lambda style_id: styles[style_id].name,
        key=CHOSEN,
        help="Each style toggled on adds its words after the prompt.",
    )
    return [style_id for style_id in chosen or [] if style_id in styles]


def manager() -> None:
    """Save a new style; delete your own."""
    with st.expander("Styles", icon=":material/palette:"):
        st.text_input("Name", key=_NAME, placeholder="e.g. brand palette")
        st.text_area(
            "Words added to the prompt",
            key=_TEXT,
            height=80,
            placeholder="e.g. warm orange and charcoal, flat vector",
        )
        st.checkbox("Shared with everyone", key=_SHARED)
        st.button("Save style", key="style-save", icon=":material/add:", on_click=_save)
        problem = _problem.get()
        if problem:
            st.error(escape_markdown(problem), icon=":material/error:")
        for style in frame.studio().gallery.styles():
            if style.mine:
                st.button(
                    f"Delete “{style.name}”",
                    key=f"style-delete-{style.id}",
                    icon=":material/delete:",
                    on_click=_remove,
                    args=(style.id,),
                )


def _remove(style_id: int) -> None:
    frame.studio().gallery.remove_style(style_id)


def _save() -> None:
    try:
        frame.studio().gallery.add_style(
            name=str(st.session_state.get(_NAME, "")),
            text=str(st.session_state.get(_TEXT, "")),
            shared=bool(st.session_state.get(_SHARED)),
        )
    except InvalidRequest as exc:
        _problem.set(exc.message)
        return
    _problem.clear()
    st.session_state[_NAME] = ""
    st.session_state[_TEXT] = ""
