"""Edit: describe a change to up to three input images."""

import streamlit as st

from components import frame, image_pickers, job_cards, prompt_form
from studio.request import Mode

frame.ensure_frame()

st.title("Edit")
prompt_form.edit_form(frame.session_credentials())
image_pickers.chosen_inputs()
image_pickers.input_sources()
job_cards.session_jobs(Mode.EDIT)
