"""Review: one shared board, for whoever holds its link; no sign-in, no navigation."""

from components import frame, review

frame.ensure_frame()

review.review()
