"""Generate: a prompt and settings in, images out (they arrive under the form)."""

import streamlit as st

from components import batch_grid, frame, job_cards, lightbox, prompt_form
from components.gallery_view import View
from studio.request import Mode

frame.ensure_frame()

st.title("Generate")
prompt_form.generate_form(frame.session_credentials())
job_cards.session_jobs(Mode.GENERATE)
batch_grid.latest()
lightbox.show_if_open(View())
