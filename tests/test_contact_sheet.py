"""Contact sheets: every image numbered and captioned, CJK and emoji prompts as themselves
(never boxes), PNG or PDF."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from studio.contact_sheet import (
    BACKGROUND,
    CAPTION_LINES,
    CELL,
    CELL_HEIGHT,
    INK,
    LINE,
    MARGIN,
    TEXT_SIZE,
    SheetItem,
    build,
    cell_origin,
    votes_line,
)
from studio.lettering import TEXT_FONT, lettering, wrap
from tests.pdf_support import pdf_fonts, pdf_info, pdf_page_size, pdf_pictures, pdf_text


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


def sheet_of(*captions: str, columns: int = 1) -> Image.Image:
    items = [SheetItem(None, caption, "1:1 · Auto") for caption in captions]
    return Image.open(BytesIO(build("Sheet", items, columns=columns))).convert("RGB")


def caption_of(sheet: Image.Image, index: int = 0, columns: int = 1) -> Image.Image:
    x, y = cell_origin(index, columns)
    return sheet.crop((x, y + CELL + 8, x + CELL, y + CELL + 8 + CAPTION_LINES * LINE))


def blank(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, BACKGROUND)


def differ(first: Image.Image, second: Image.Image) -> bool:
    return ImageChops.difference(first, second).getbbox() is not None


@pytest.mark.parametrize(
    ("first", "second"),
    [("狐", "犬"), ("고양이", "강아지"), ("🦊", "🐺"), ("❄️", "☀️"), ("👩‍💻", "👨‍🍳"), ("🇯🇵", "🇫🇷")],
)
def test_different_prompts_print_differently_not_as_the_same_boxes(first: str, second: str) -> None:
    assert differ(caption_of(sheet_of(first)), caption_of(sheet_of(second)))


def test_emoji_in_a_prompt_print_as_pictures_where_the_cjk_font_has_boxes() -> None:
    caption = "1. fox 🦊 in the snow ❄️ 雪の狐"
    shown = caption_of(sheet_of("fox 🦊 in the snow ❄️ 雪の狐"))
    # The same caption in the CJK font alone, as sheets were set before: boxes (tofu).
    boxes = blank(shown.size)
    font = ImageFont.truetype(TEXT_FONT, TEXT_SIZE)
    ImageDraw.Draw(boxes).text((0, 0), caption, font=font, fill=INK)
    text = lettering(TEXT_SIZE)
    for emoji in ("🦊", "❄️"):
        left = round(text.getlength(caption[: caption.index(emoji)]))
        place = (left, 0, left + round(text.getlength(emoji)), LINE)

        drawn = shown.crop(place)

        assert differ(drawn, blank(drawn.size)), emoji
        assert differ(drawn, boxes.crop(place)), emoji
    assert not differ(shown.crop((0, 0, 40, LINE)), boxes.crop((0, 0, 40, LINE)))  # "1. fo"


def test_a_long_mixed_caption_wraps_inside_its_cell_on_three_lines() -> None:
    prompt = "fox 🦊 in the snow ❄️ 雪の中の赤い狐 👩‍💻🇯🇵 " * 8
    sheet = sheet_of(prompt, "a", columns=2)
    x, y = cell_origin(0, 2)
    top = y + CELL + 8
    gap = sheet.crop((x + CELL + 1, top, x + CELL + MARGIN, top + CAPTION_LINES * LINE))

    assert not differ(gap, blank(gap.size))  # nothing spills towards the next cell
    for line in range(CAPTION_LINES):
        band = sheet.crop((x, top + line * LINE, x + CELL, top + (line + 1) * LINE))
        assert differ(band, blank(band.size)), line
    lines = wrap(f"1. {prompt}", lettering(TEXT_SIZE), CELL, CAPTION_LINES)
    assert len(lines) == CAPTION_LINES and lines[-1].endswith("…")
    assert all(lettering(TEXT_SIZE).getlength(line) <= CELL for line in lines)
    assert not any(line.startswith(("\u200d", "\ufe0f", "\U0001f1f5")) for line in lines)


MIXED = [
    SheetItem(
        picture("orange", (1024, 576)),
        "a red fox in the snow 🦊",
        "16:9 · PNG",
        ("Jane: “more snow”",),
    ),
    SheetItem(picture("teal", (1024, 1024)), "雪の中の赤い狐、朝の光", "1:1 · PNG"),
    SheetItem(None, "a blue fox whose image expired", "1:1 · Auto"),
]


def test_a_pdf_sheet_has_every_caption_as_text_in_embedded_subset_fonts(tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(build("Foxes 狐", MIXED, columns=3, kind="pdf"))

    text = pdf_text(path)

    for number, item in enumerate(MIXED, 1):
        assert f"{number}. {item.caption}" in text
        assert item.detail in text
    assert "Jane: “more snow”" in text
    assert pdf_info(path)["Title"] == "Foxes 狐"
    fonts = pdf_fonts(path)
    assert "+WenQuanYiMicroHei" in fonts and "+NotoEmoji" in fonts  # subsets, embedded
    assert all(line.split()[-5:-3] == ["yes", "yes"] for line in fonts.splitlines()[2:])


def test_the_page_turns_whichever_way_prints_the_pictures_larger(tmp_path: Path) -> None:
    row = [SheetItem(picture("navy", (1024, 576)), f"fox {n}", "16:9") for n in range(4)]
    squares = [SheetItem(picture("navy", (1024, 1024)), f"fox {n}", "1:1") for n in range(9)]
    wide, tall = tmp_path / "wide.pdf", tmp_path / "tall.pdf"
    wide.write_bytes(build("One row", row, columns=4, kind="pdf", paper="Letter"))
    tall.write_bytes(build("Three rows", squares, columns=3, kind="pdf", paper="Letter"))

    assert pdf_page_size(pdf_info(wide)) == (792, 612)
    assert pdf_page_size(pdf_info(tall)) == (612, 792)
    assert pdf_info(tall)["Pages"] == "1"


def test_a_long_sheet_runs_onto_more_pages_and_loses_no_caption(tmp_path: Path) -> None:
    items = [
        SheetItem(picture("plum", (576, 1024)), f"prompt number {n} " + "words " * 30, "9:16")
        for n in range(1, 25)
    ]
    path = tmp_path / "long.pdf"
    path.write_bytes(build("Twenty-four", items, columns=3, kind="pdf"))

    assert int(pdf_info(path)["Pages"]) > 1
    text = pdf_text(path)
    assert all(f"{n}. prompt number {n} " in text for n in range(1, 25))
    assert len(pdf_pictures(path)) == 24


def test_votes_read_as_people_say_them() -> None:
    assert votes_line(0, 0) == ""
    assert votes_line(1, 0) == "1 approval"
    assert votes_line(1, 2) == "1 approval, 2 need changes"
    assert votes_line(3, 1) == "3 approvals, 1 needs changes"
