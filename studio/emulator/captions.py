"""Text on the emulator's pictures: the prompt's caption, and the placeholder for an input.

Set in WenQuanYi Micro Hei (a pinned package): Latin and CJK in one small font, so a
prompt in Chinese, Japanese or Korean is captioned in its own letters, not boxes. It has
no emoji; those still show as boxes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from PIL import Image, ImageDraw, ImageFont

CAPTION_FONT = files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
CAPTION_LINES = 2
PLACEHOLDER_LABEL = "input image"


def draw_caption(image: Image.Image, prompt: str) -> None:
    """The prompt, small, on a translucent band in the bottom-left corner."""
    width, height = image.size
    font_size = max(12, round(min(width, height) / 40))
    font = caption_font(font_size)
    lines = _wrap(" ".join(prompt.split()), font, width * 0.45)
    if not lines:
        return
    text = "\n".join(lines)
    draw = ImageDraw.Draw(image, "RGBA")
    margin = round(font_size * 1.2)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=4)
    origin = (margin, height - margin - (bottom - top))
    padding = round(font_size * 0.5)
    draw.rounded_rectangle(
        (
            origin[0] - padding,
            origin[1] - padding,
            origin[0] + (right - left) + padding,
            origin[1] + (bottom - top) + padding,
        ),
        radius=padding,
        fill=(0, 0, 0, 110),
    )
    draw.multiline_text(
        (origin[0] - left, origin[1] - top), text, font=font, fill=(255, 255, 255, 235), spacing=4
    )


@lru_cache(maxsize=16)
def caption_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CAPTION_FONT), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """`text` in at most CAPTION_LINES lines of at most `max_width` pixels, cut with "…".

    Measured in pixels, not characters: a CJK character is about twice as wide as a Latin
    one, and CJK text has no spaces, so a line may also break between any two characters.
    """
    lines: list[str] = []
    line = ""
    for index, character in enumerate(text):
        if font.getlength(line + character) <= max_width or not line:
            line += character
            continue
        space = line.rfind(" ")
        if character == " ":
            lines.append(line)
            line = ""
        elif space > 0:
            lines.append(line[:space])
            line = line[space + 1 :] + character
        else:
            lines.append(line)
            line = character
        if len(lines) == CAPTION_LINES:
            rest = (line + text[index + 1 :]).strip()
            if rest:
                lines[-1] = _ellipsised(lines[-1], font, max_width)
            return lines
    if line.strip():
        lines.append(line.strip())
    return lines


def _ellipsised(line: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    while line and font.getlength(line.rstrip() + " …") > max_width:
        line = line[:-1]
    return line.rstrip() + " …"


def draw_placeholder(size: tuple[int, int]) -> Image.Image:
    """A neutral panel labelled "input image", standing in for an input never fetched.

    It depends on the size alone, so nothing about the address it replaces shows.
    """
    width, height = size
    panel = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(panel)
    inset = round(min(width, height) * 0.08)
    draw.rounded_rectangle(
        (inset, inset, width - inset, height - inset),
        radius=inset,
        fill=(150, 150, 150),
        outline=(200, 200, 200),
        width=max(2, inset // 8),
    )
    font = caption_font(max(12, round(min(width, height) / 12)))
    draw.text(
        (width / 2, height / 2), PLACEHOLDER_LABEL, font=font, fill=(235, 235, 235), anchor="mm"
    )
    return panel
