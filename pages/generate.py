"""Generate: a prompt and settings in, images out (they arrive under the form)."""

import streamlit as st

from components import frame, job_cards, prompt_form
from studio.request import Mode

frame.ensure_frame()
studio = frame.get_studio()

st.title("Generate")
prompt_form.generate_form(studio, frame.session_credentials(studio))
job_cards.session_jobs(studio, Mode.GENERATE)
