"""Gallery: jobs in flight, anything that needs attention, and every archived image; or
the Trash (`?view=trash`), with the deleted ones."""

from components import add_to_board, compare, frame, gallery_grid, job_cards, lightbox, trash_view

frame.ensure_frame()

if trash_view.is_open():
    trash_view.show()
else:
    trash_view.heading("Gallery")
    job_cards.live_jobs("gallery")
    job_cards.needs_attention()
    view = gallery_grid.gallery()
    lightbox.show_if_open(view)
    compare.show_if_open()
    add_to_board.show_if_asked()
