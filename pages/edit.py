"""Edit: describe a change to up to three input images."""

import streamlit as st

from components import frame, image_pickers, job_cards, prompt_form
from studio.request import Mode

frame.ensure_frame()
studio = frame.get_studio()

st.title("Edit")
prompt_form.edit_form(studio, frame.session_credentials(studio))
image_pickers.chosen_inputs(studio)
image_pickers.input_sources(studio)
job_cards.session_jobs(studio, Mode.EDIT)
