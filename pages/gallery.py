"""Gallery: jobs in flight, anything that needs attention, and every archived image."""

import streamlit as st

from components import compare, frame, gallery_grid, gallery_view, job_cards, lightbox

frame.ensure_frame()

st.title("Gallery")
job_cards.live_jobs("gallery")
job_cards.needs_attention()
view, items = gallery_grid.gallery(gallery_view.read_view())
lightbox.show_if_open(view, items)
compare.show_if_open()
