"""Generate: a prompt and settings in, images out (they arrive under the form)."""

import streamlit as st

from components import frame, job_cards, prompt_form
from studio.request import Mode

frame.ensure_frame()

st.title("Generate")
prompt_form.generate_form(frame.session_credentials())
job_cards.session_jobs(Mode.GENERATE)
