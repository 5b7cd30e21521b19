"""Contact sheets: every image numbered and captioned, CJK prompts in letters, PNG or PDF."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageChops

from studio.contact_sheet import (
    BACKGROUND,
    CELL,
    CELL_HEIGHT,
    MARGIN,
    SheetItem,
    _font,
    build,
    cell_origin,
)


def picture(colour: str, size: tuple[int, int]) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, "WEBP")
    return buffer.getvalue()


ITEMS = [
    SheetItem(picture("orange", (512, 288)), "a red fox in the snow", "16:9 · Auto"),
    SheetItem(picture("teal", (512, 512)), "a red fox in the snow", "1:1 · Auto"),
    SheetItem(picture("navy", (288, 512)), "a red fox in the snow", "9:16 · Auto"),
    SheetItem(picture("olive", (512, 288)), "雪の中の赤い狐、朝の光", "16:9 · PNG"),
    SheetItem(None, "a blue fox whose image expired", "1:1 · Auto"),
    SheetItem(picture("plum", (288, 512)), "a blue fox " * 40, "9:16 · Auto"),
]


def test_a_sheet_of_six_has_every_picture_and_caption_in_its_cell() -> None:
    sheet = Image.open(BytesIO(build("Sweep of 6 jobs", ITEMS, columns=3))).convert("RGB")
    ink = ImageChops.difference(sheet, Image.new("RGB", sheet.size, BACKGROUND))
    for index in range(6):
        x, y = cell_origin(index, 3)
        picture_box = ink.crop((x, y, x + CELL, y + CELL)).getbbox()
        caption_box = ink.crop((x, y + CELL, x + CELL, y + CELL_HEIGHT)).getbbox()
        assert picture_box is not None and caption_box is not None, index
    assert sheet.width == cell_origin(5, 3)[0] + CELL + MARGIN
    assert cell_origin(5, 3)[1] + CELL_HEIGHT + MARGIN == sheet.height


def test_cjk_prompts_print_as_letters_not_boxes() -> None:
    font = _font(17)
    fox = font.getmask("狐").getbbox()
    missing = font.getmask("\ue000").getbbox()  # a private-use character: the font's box
    assert fox is not None and fox != missing


def test_a_pdf_is_one_page_of_the_same_sheet() -> None:
    pdf = build("Sweep of 6 jobs", ITEMS, columns=3, kind="pdf")
    assert pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1
