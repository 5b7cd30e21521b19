"""Generate: a prompt and settings in the left column, the results feed beside them."""

import streamlit as st

from components import feed, frame, lightbox, prompt_form
from components.gallery_view import View
from studio.request import Mode

frame.ensure_frame()

controls, work = feed.studio_columns()
with controls:
    st.title("Generate")
    prompt_form.generate_form(frame.session_credentials())
with work:
    feed.show(Mode.GENERATE)
lightbox.show_if_open(View())
