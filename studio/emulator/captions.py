"""Text on the emulator's pictures: the prompt's caption, and the placeholder for an input.

Set in WenQuanYi Micro Hei (a pinned package) for Latin and CJK, and Noto Emoji
(assets/fonts/) for what it lacks (`lettering`), so a prompt in Chinese, Japanese or
Korean, or with emoji, is captioned in its own letters and pictures, not boxes.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from studio.lettering import lettering, wrap

CAPTION_LINES = 2
LINE_SPACING = 4  # pixels between a caption's lines
PLACEHOLDER_LABEL = "input image"


def draw_caption(image: Image.Image, prompt: str) -> None:
    """The prompt, small, on a translucent band in the bottom-left corner."""
    width, height = image.size
    font_size = max(12, round(min(width, height) / 40))
    font = lettering(font_size)
    lines = wrap(prompt, font, width * 0.45, CAPTION_LINES)
    if not lines:
        return
    draw = ImageDraw.Draw(image, "RGBA")
    margin = round(font_size * 1.2)
    step = font.text_font.getbbox("A")[3] + LINE_SPACING  # as Pillow spaces multiline text
    boxes = [font.getbbox(line) for line in lines]
    left = min(box[0] for box in boxes)
    top = min(box[1] + number * step for number, box in enumerate(boxes))
    right = max(box[2] for box in boxes)
    bottom = max(box[3] + number * step for number, box in enumerate(boxes))
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
    for number, line in enumerate(lines):
        position = (origin[0] - left, origin[1] - top + number * step)
        font.draw(draw, position, line, (255, 255, 255, 235))


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
    font = lettering(max(12, round(min(width, height) / 12))).text_font
    draw.text(
        (width / 2, height / 2), PLACEHOLDER_LABEL, font=font, fill=(235, 235, 235), anchor="mm"
    )
    return panel
