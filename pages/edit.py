"""Edit: describe a change to up to three input images."""

import streamlit as st

from components import frame, image_pickers, job_cards, lightbox, prompt_form
from components.gallery_view import View
from studio.request import Mode

frame.ensure_frame()

st.title("Edit")
# The pictures first: the button that sends the edit comes after what it edits.
image_pickers.chosen_inputs()
image_pickers.input_sources()
prompt_form.edit_form(frame.session_credentials())
job_cards.session_jobs(Mode.EDIT)
lightbox.show_if_open(View())
