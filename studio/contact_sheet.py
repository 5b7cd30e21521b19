"""A contact sheet: a titled grid of images, each numbered and captioned, as PNG or PDF.

Set as the demo backend sets its captions (`studio.emulator.lettering`): letters in
WenQuanYi Micro Hei, emoji in Noto Emoji, so Latin, CJK and emoji prompts all print as
themselves, not boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw

from studio import decoding
from studio.emulator.lettering import Lettering, wrap

CELL = 360  # pixels: each picture fits a square this size
MARGIN = 32
CAPTION_LINES = 3
TITLE_SIZE, TEXT_SIZE, DETAIL_SIZE = 30, 17, 14
LINE = round(TEXT_SIZE * 1.35)
CELL_HEIGHT = CELL + LINE * CAPTION_LINES + DETAIL_SIZE + 24  # picture, caption, detail
BACKGROUND, INK, QUIET = (255, 252, 249), (31, 26, 23), (110, 100, 92)


@dataclass(frozen=True)
class SheetItem:
    picture: bytes | None  # None: the image is missing, a grey panel stands in
    caption: str
    detail: str  # the settings line under the caption: ratio, format...


def build(title: str, items: Sequence[SheetItem], *, columns: int, kind: str = "png") -> bytes:
    """The sheet as PNG (`kind="png"`) or a one-page PDF (`kind="pdf"`)."""
    # Fonts of its own: a FreeType face is not to be shared with the emulator's threads.
    heading, text, small = Lettering(TITLE_SIZE), Lettering(TEXT_SIZE), Lettering(DETAIL_SIZE)
    rows = max(1, -(-len(items) // columns))
    width = MARGIN * 2 + columns * CELL + (columns - 1) * MARGIN
    height = MARGIN * 3 + TITLE_SIZE + rows * CELL_HEIGHT + (rows - 1) * MARGIN
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    heading.draw(draw, (MARGIN, MARGIN), title, INK)
    for index, item in enumerate(items):
        x, y = cell_origin(index, columns)
        _place(sheet, item.picture, x, y)
        caption = wrap(f"{index + 1}. {item.caption}", text, CELL, CAPTION_LINES)
        for number, words in enumerate(caption):
            text.draw(draw, (x, y + CELL + 8 + number * LINE), words, INK)
        small.draw(draw, (x, y + CELL + 8 + CAPTION_LINES * LINE), item.detail, QUIET)
    output = BytesIO()
    if kind == "pdf":
        sheet.save(output, "PDF", resolution=150.0, title=title)
    else:
        sheet.save(output, "PNG", optimize=True)
    return output.getvalue()


def cell_origin(index: int, columns: int) -> tuple[int, int]:
    """The top left of the `index`th cell (0 first), row by row."""
    row, column = divmod(index, columns)
    top = MARGIN * 2 + TITLE_SIZE
    return MARGIN + column * (CELL + MARGIN), top + row * (CELL_HEIGHT + MARGIN)


def _place(sheet: Image.Image, picture: bytes | None, x: int, y: int) -> None:
    try:
        image = decoding.decode(picture) if picture is not None else None
    except decoding.NotDecodable:
        image = None  # never the case for an archived picture, but never Ghostscript either
    if image is None:
        ImageDraw.Draw(sheet).rectangle((x, y, x + CELL, y + CELL), fill=(215, 208, 202))
        return
    with image:
        shown = image.convert("RGB")
    shown.thumbnail((CELL, CELL))
    sheet.paste(shown, (x + (CELL - shown.width) // 2, y + (CELL - shown.height) // 2))
