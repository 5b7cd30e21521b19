"""Gallery: jobs in flight, anything that needs attention, and every archived image."""

import streamlit as st

from components import add_to_board, compare, frame, gallery_grid, job_cards, lightbox

frame.ensure_frame()

st.title("Gallery")
job_cards.live_jobs("gallery")
job_cards.needs_attention()
view = gallery_grid.gallery()
lightbox.show_if_open(view)
compare.show_if_open()
add_to_board.show_if_asked()
