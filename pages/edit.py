"""Edit: describe a change to up to three input images; the results feed beside it."""

import streamlit as st

from components import feed, frame, image_pickers, lightbox, prompt_form
from components.gallery_view import View
from studio.request import Mode

frame.ensure_frame()

controls, work = feed.studio_columns()
with controls:
    st.title("Edit")
    image_pickers.take_pasted()  # before the inputs are drawn, so a pasted one shows
    # The pictures first: the button that sends the edit comes after what it edits.
    image_pickers.chosen_inputs()
    image_pickers.input_sources()
    prompt_form.edit_form(frame.session_credentials())
with work:
    feed.show(Mode.EDIT)
lightbox.show_if_open(View())
