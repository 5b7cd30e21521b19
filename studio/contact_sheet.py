"""A contact sheet: a titled grid of images, each numbered and captioned, as PNG or PDF.

The PNG is one picture, its text set by `studio.lettering` (as the demo backend sets its
captions): letters in WenQuanYi Micro Hei, emoji in Noto Emoji, so
Latin, CJK and emoji prompts all print as themselves, not boxes.

The PDF is a document to print and search: A4 or Letter (landscape when the grid is
wider than tall), the pictures embedded at up to print resolution, and every caption,
prompt, vote count and comment as real, selectable text in the same two fonts,
embedded as subsets. It runs onto more pages when the images do not fit on one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Literal

from PIL import Image, ImageDraw

from studio import decoding, formats
from studio.lettering import EMOJI_FONT, TEXT_FONT, Lettering, clusters, wrap
from studio.records import GalleryItem, Verdicts

if TYPE_CHECKING:
    from fpdf import FPDF

# Where a line may break: after a word and its spaces, or around a CJK character.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_BREAKS = re.compile(f"[{_CJK}]\\s*|[^\\s{_CJK}]+\\s*|\\s+")

CELL = 360  # pixels: each picture fits a square this size
MARGIN = 32
CAPTION_LINES = 3
COMMENT_LINES = 2  # under the votes, when any image has comments
TITLE_SIZE, TEXT_SIZE, DETAIL_SIZE = 30, 17, 14
LINE = round(TEXT_SIZE * 1.35)
DETAIL_LINE = DETAIL_SIZE + 6
CELL_HEIGHT = CELL + LINE * CAPTION_LINES + DETAIL_SIZE + 24  # picture, caption, detail
BACKGROUND, INK, QUIET = (255, 252, 249), (31, 26, 23), (110, 100, 92)

# The PDF, in points (1/72 inch).
PAPER_SIZES = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}
PAGE_MARGIN, GUTTER = 36.0, 14.0
PDF_TITLE_SIZE, PDF_TEXT_SIZE, PDF_DETAIL_SIZE = 16.0, 9.0, 7.5
MIN_SCALE = 0.6  # pictures shrink to fit one page, but not below this share of a column
LEADING = 1.3  # a line's height, in font sizes
PRINT_PPI = 300  # pictures are embedded at up to this many pixels per printed inch
JPEG_QUALITY = 90


@dataclass(frozen=True)
class SheetItem:
    picture: bytes | None  # None: the image is missing, a grey panel stands in
    caption: str
    detail: str  # the settings line under the caption: ratio, format, votes...
    comments: tuple[str, ...] = ()  # reviewers' comments, as they read under the votes
    # The PDF's picture (the original), when the studio has it: printed from it.
    print_picture: bytes | None = None


def build(
    title: str,
    items: Sequence[SheetItem],
    *,
    columns: int,
    kind: str = "png",
    paper: Literal["A4", "Letter"] = "A4",
) -> bytes:
    """The sheet as PNG (`kind="png"`) or a PDF document on `paper` (`kind="pdf"`)."""
    if kind == "pdf":
        return _pdf(title, items, columns, paper)
    return _png(title, items, columns)


def item_of(
    item: GalleryItem, verdict: Verdicts, thumbnail: bytes | None, original: bytes | None
) -> SheetItem:
    """A gallery image on a sheet: its prompt, a line of ratio, format and votes, and
    its reviewers' comments (the PDF prints `original` when given)."""
    parts = [item.job.request.aspect_ratio or "1:1", formats.label(item.image.format)]
    votes = votes_line(verdict.approvals, verdict.changes)
    comments = tuple(
        comment_line(note.reviewer, note.comment) for note in verdict.notes if note.comment
    )
    return SheetItem(
        thumbnail,
        item.job.prompt,
        " · ".join([*parts, votes] if votes else parts),
        comments,
        original,
    )


def votes_line(approvals: int, changes: int) -> str:
    """ "1 approval, 2 need changes"; "" before any vote."""
    parts = []
    if approvals:
        parts.append(f"{approvals} approval" + ("" if approvals == 1 else "s"))
    if changes:
        parts.append(f"{changes} need" + ("s" if changes == 1 else "") + " changes")
    return ", ".join(parts)


def comment_line(reviewer: str, comment: str) -> str:
    return f"{reviewer}: “{comment}”"


def comment_lines(items: Sequence[SheetItem]) -> int:
    """The lines each PNG cell keeps for comments: none unless an image has some."""
    return COMMENT_LINES if any(item.comments for item in items) else 0


def cell_origin(index: int, columns: int, comments: int = 0) -> tuple[int, int]:
    """The top left of the `index`th cell (0 first), row by row, with `comments` lines
    of comments in each cell."""
    row, column = divmod(index, columns)
    top = MARGIN * 2 + TITLE_SIZE
    height = CELL_HEIGHT + comments * DETAIL_LINE
    return MARGIN + column * (CELL + MARGIN), top + row * (height + MARGIN)


def _png(title: str, items: Sequence[SheetItem], columns: int) -> bytes:
    # Fonts of its own: a FreeType face is not to be shared with the emulator's threads.
    heading, text, small = Lettering(TITLE_SIZE), Lettering(TEXT_SIZE), Lettering(DETAIL_SIZE)
    comments = comment_lines(items)
    rows = max(1, -(-len(items) // columns))
    cell_height = CELL_HEIGHT + comments * DETAIL_LINE
    width = MARGIN * 2 + columns * CELL + (columns - 1) * MARGIN
    height = MARGIN * 3 + TITLE_SIZE + rows * cell_height + (rows - 1) * MARGIN
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    heading.draw(draw, (MARGIN, MARGIN), title, INK)
    for index, item in enumerate(items):
        x, y = cell_origin(index, columns, comments)
        _place(sheet, item.picture, x, y)
        caption = wrap(f"{index + 1}. {item.caption}", text, CELL, CAPTION_LINES)
        for number, words in enumerate(caption):
            text.draw(draw, (x, y + CELL + 8 + number * LINE), words, INK)
        detail_top = y + CELL + 8 + CAPTION_LINES * LINE
        small.draw(draw, (x, detail_top), item.detail, QUIET)
        if item.comments:
            said = wrap(" · ".join(item.comments), small, CELL, comments)
            for number, words in enumerate(said, 1):
                small.draw(draw, (x, detail_top + number * DETAIL_LINE), words, QUIET)
    output = BytesIO()
    sheet.save(output, "PNG", optimize=True)
    return output.getvalue()


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


# PDF


@dataclass(frozen=True)
class _Layout:
    """How the PDF's grid sits on the paper one way round."""

    landscape: bool
    width: float
    height: float
    cell: float  # a column's width
    scale: float  # pictures at this share of the column's width (shrunk to fit one page)
    rows: list[tuple[float, float]]  # each row's picture height and text height
    pages: int

    @property
    def picture(self) -> float:
        return self.cell * self.scale


def _pdf(title: str, items: Sequence[SheetItem], columns: int, paper: str) -> bytes:
    pdf = _document(paper)
    pdf.set_title(title)
    pdf.set_creator("Image Studio")
    shapes = [_shape(item.print_picture or item.picture) for item in items]
    # Fewest pages first, then the larger pictures: landscape when it fits better.
    layout = min(
        (
            _layout(pdf, title, items, shapes, columns, PAPER_SIZES[paper], wide)
            for wide in (False, True)
        ),
        key=lambda found: (found.pages, -found.picture),
    )
    pdf.add_page(orientation="L" if layout.landscape else "P")
    pdf.set_text_color(*INK)
    title_width = layout.width - 2 * PAGE_MARGIN
    top = _write(pdf, title, PDF_TITLE_SIZE, title_width, PAGE_MARGIN, PAGE_MARGIN) + GUTTER
    for row, (picture_height, text_height) in enumerate(layout.rows):
        if top + picture_height + text_height > layout.height - PAGE_MARGIN:
            pdf.add_page(orientation="L" if layout.landscape else "P")
            top = PAGE_MARGIN
        for column in range(columns):
            index = row * columns + column
            if index >= len(items):
                break
            x = PAGE_MARGIN + column * (layout.cell + GUTTER)
            item = items[index]
            box = (layout.picture, picture_height)
            _print_picture(pdf, item.print_picture or item.picture, x, top, box, layout.cell)
            _print_text(pdf, layout.cell, index + 1, item, x, top + picture_height + 4)
        top += picture_height + text_height + GUTTER
    return bytes(pdf.output())


def _document(paper: str) -> FPDF:
    """An empty PDF on `paper`, with the sheet's fonts: emoji from Noto Emoji wherever
    WenQuanYi Micro Hei has none."""
    # Imported when a PDF is asked for: fpdf (and the numpy it brings) would add about
    # 0.4 s to every server's start for a sheet most servers seldom make.
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=PAPER_SIZES[paper])
    pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
    pdf.set_auto_page_break(False)
    pdf.c_margin = 0  # text starts at the picture's left edge
    pdf.add_font("text", fname=TEXT_FONT, collection_font_number=0)
    pdf.add_font("emoji", fname=EMOJI_FONT)
    pdf.set_fallback_fonts(["emoji"])
    return pdf


def _layout(
    pdf: FPDF,
    title: str,
    items: Sequence[SheetItem],
    shapes: list[float],
    columns: int,
    paper: tuple[float, float],
    wide: bool,
) -> _Layout:
    width, height = (paper[1], paper[0]) if wide else paper
    cell = (width - 2 * PAGE_MARGIN - (columns - 1) * GUTTER) / columns
    pdf.set_font("text", size=PDF_TITLE_SIZE)
    title_height = _height(pdf, width - 2 * PAGE_MARGIN, title, PDF_TITLE_SIZE) + GUTTER
    row_shapes, texts = [], []
    for start in range(0, len(items), columns):
        row = range(start, min(start + columns, len(items)))
        row_shapes.append(min(1.0, max(shapes[index] for index in row)))
        texts.append(max(_text_height(pdf, cell, index + 1, items[index]) for index in row))
    room = height - 2 * PAGE_MARGIN - title_height - GUTTER * len(texts)
    scale = min(1.0, (room - sum(texts)) / (cell * sum(row_shapes) or 1))
    if scale < MIN_SCALE:  # too small on one page: full size, over several
        scale = 1.0
    rows = [(cell * scale * shape, text) for shape, text in zip(row_shapes, texts, strict=True)]
    pages, top = 1, PAGE_MARGIN + title_height
    for picture_height, text_height in rows:
        if top + picture_height + text_height > height - PAGE_MARGIN:
            pages, top = pages + 1, PAGE_MARGIN
        top += picture_height + text_height + GUTTER
    return _Layout(wide, width, height, cell, scale, rows, pages)


def _shape(picture: bytes | None) -> float:
    """A picture's height over its width (1 for a missing one)."""
    if picture is None:
        return 1.0
    with decoding.decode(picture) as image:
        return image.height / image.width


def _text_lines(number: int, item: SheetItem) -> list[tuple[str, float, tuple[int, int, int]]]:
    """What goes under a picture: (text, size, colour) paragraphs."""
    lines = [(f"{number}. {item.caption}", PDF_TEXT_SIZE, INK)]
    if item.detail:
        lines.append((item.detail, PDF_DETAIL_SIZE, QUIET))
    lines += [(comment, PDF_DETAIL_SIZE, INK) for comment in item.comments]
    return lines


def _lines(pdf: FPDF, text: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` at `size`: between words, and
    between CJK characters (which need no spaces), never inside an emoji sequence."""
    pdf.set_font("text", size=size)
    lines: list[str] = []
    line = ""
    for token in _BREAKS.findall(text):
        pieces = [token] if pdf.get_string_width(token.rstrip()) <= width else clusters(token)
        for piece in pieces:
            if line and pdf.get_string_width((line + piece).rstrip()) > width:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _height(pdf: FPDF, width: float, text: str, size: float) -> float:
    return len(_lines(pdf, text, size, width)) * size * LEADING


def _text_height(pdf: FPDF, width: float, number: int, item: SheetItem) -> float:
    lines = _text_lines(number, item)
    return 4.0 + sum(_height(pdf, width, text, size) for text, size, _colour in lines)


def _write(pdf: FPDF, text: str, size: float, width: float, x: float, y: float) -> float:
    """`text` set in lines from (x, y); where it ends."""
    for line in _lines(pdf, text, size, width):
        pdf.set_xy(x, y)
        pdf.cell(width, size * LEADING, line)
        y += size * LEADING
    return y


def _print_text(pdf: FPDF, width: float, number: int, item: SheetItem, x: float, y: float) -> None:
    for text, size, colour in _text_lines(number, item):
        pdf.set_text_color(*colour)
        y = _write(pdf, text, size, width, x, y)


def _print_picture(
    pdf: FPDF, picture: bytes | None, x: float, y: float, box: tuple[float, float], cell: float
) -> None:
    """The picture fitted into `box` (width, height in points), centred in its column's
    `cell` width, embedded at up to PRINT_PPI."""
    left = x + (cell - box[0]) / 2
    if picture is None:
        side = min(box)
        pdf.set_fill_color(215, 208, 202)
        pdf.rect(x + (cell - side) / 2, y + (box[1] - side) / 2, side, side, style="F")
        return
    with decoding.decode(picture) as image:
        shown = image.convert("RGB")
    scale = min(box[0] / shown.width, box[1] / shown.height)
    wide, high = shown.width * scale, shown.height * scale
    most = round(max(wide, high) / 72 * PRINT_PPI)
    shown.thumbnail((most, most))
    encoded = BytesIO()
    shown.save(encoded, "JPEG", quality=JPEG_QUALITY)
    pdf.image(encoded, left + (box[0] - wide) / 2, y + (box[1] - high) / 2, wide, high)
