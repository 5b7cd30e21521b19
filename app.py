"""Image Studio: the entry point. A thin router over the pages, with the shared frame."""

import streamlit as st

from components import frame


def run() -> None:
    st.set_page_config(
        page_title="Image Studio", page_icon=":material/photo_camera:", layout="wide"
    )
    page = st.navigation(
        [
            st.Page(
                "pages/generate.py",
                title="Generate",
                icon=":material/auto_awesome:",
                url_path="",
                default=True,
            ),
            st.Page("pages/edit.py", title="Edit", icon=":material/edit:", url_path="edit"),
            st.Page(
                "pages/gallery.py",
                title="Gallery",
                icon=":material/photo_library:",
                url_path="gallery",
            ),
        ]
    )
    studio = frame.get_studio()
    counters_slot = frame.sidebar(studio)
    frame.show_toasts()
    frame.mark_frame_ran()
    page.run()
    frame.counters(studio, counters_slot)


if __name__ == "__main__":
    run()
