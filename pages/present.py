"""Present: one board full-screen, one image at a time, for a demo or a meeting."""

from components import frame, present

frame.ensure_frame()

present.present()
