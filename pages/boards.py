"""Boards: named, ordered sets of images to share for review, and what reviewers said."""

import streamlit as st

from components import board_list, board_view, focus, frame, gallery_view, lightbox
from components.gallery_view import View

frame.ensure_frame()

st.title("Boards")
board_id = board_list.open_board_id()
if board_id is None:
    board_list.boards()
else:
    board_view.board(board_id)
    lightbox.show_if_open(View(board=board_id))
    focus.restore(gallery_view.open_button_key(gallery_view.take_focus()))
