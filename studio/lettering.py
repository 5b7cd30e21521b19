"""Text drawn in two fonts: letters in WenQuanYi Micro Hei, emoji in Noto Emoji.

WenQuanYi Micro Hei (Apache 2.0) has Latin and CJK but no emoji; Noto Emoji (monochrome,
OFL) has the emoji. Both are committed in assets/fonts/ with their licences. Pillow draws
with one font at a time, so a line is cut into runs, each drawn in the font that has its
characters, all on one baseline and in one colour.

The studio's contact sheets and the emulator's captions both set text with it. It is the
studio's own: production code never imports the emulator (an import contract in
pyproject.toml), and the emulator may import it because it holds no fact of FoxAPI's
contract (tests/test_emulator_contract.py).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parents[1] / "assets" / "fonts"
TEXT_FONT = str(FONTS / "wqy-microhei.ttc")
EMOJI_FONT = str(FONTS / "NotoEmoji-Regular.ttf")
ZERO_WIDTH_JOINER = "\u200d"
EMOJI_STYLE = "\ufe0f"  # variation selector 16: "show the character before me as an emoji"
# Characters that belong to the one before them: the text and emoji variation
# selectors, the keycap, skin tones, and the tags of a subdivision flag.
_MODIFIERS = (range(0xFE0E, 0xFE10), range(0x20E3, 0x20E4), range(0x1F3FB, 0x1F400))
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)  # two of them make a flag
_PROBE_SIZE = 24
_ADVANCES_KEPT = 2048
_MISSING = "\U0010ffff"  # a noncharacter: no font has it, each draws its .notdef box
# The probe fonts serve every thread (the emulator's and the studio's pages), and a
# FreeType face is not to be used by two at once.
_PROBING = threading.Lock()


class Lettering:
    """Text at one size, each character in the font that has it, on one baseline."""

    def __init__(self, size: int) -> None:
        self.text_font = ImageFont.truetype(TEXT_FONT, size)
        self.emoji_font = ImageFont.truetype(EMOJI_FONT, size)
        self.ascent = self.text_font.getmetrics()[0]
        # Wrapping measures a growing line again and again: all its runs but the last
        # are measured once. Bounded: the emulator keeps a Lettering for its whole life.
        self._advances: dict[tuple[str, bool], float] = {}

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """`text` as consecutive pieces, each with the font to draw it in."""
        pieces: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for cluster in clusters(text):
            font = self.emoji_font if _wants_emoji_font(cluster) else self.text_font
            if pieces and pieces[-1][1] is font:
                pieces[-1] = (pieces[-1][0] + cluster, font)
            else:
                pieces.append((cluster, font))
        return pieces

    def getlength(self, text: str) -> float:
        """The advance of `text` in pixels, as `FreeTypeFont.getlength`."""
        return sum(self._advance(run, font) for run, font in self.runs(text))

    def getbbox(self, text: str) -> tuple[float, float, float, float]:
        """The box `draw` inks for `text` at (0, 0), as `FreeTypeFont.getbbox`."""
        boxes: list[tuple[float, float, float, float]] = []
        x = 0.0
        for run, font in self.runs(text):
            left, top, right, bottom = font.getbbox(run, anchor="ls")
            boxes.append((x + left, self.ascent + top, x + right, self.ascent + bottom))
            x += self._advance(run, font)
        if not boxes:
            return 0, 0, 0, 0
        return (
            min(box[0] for box in boxes),
            min(box[1] for box in boxes),
            max(box[2] for box in boxes),
            max(box[3] for box in boxes),
        )

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        origin: tuple[float, float],
        text: str,
        fill: tuple[int, ...],
    ) -> None:
        """`text` with its top left (the letters' ascender) at `origin`, as `draw.text`."""
        x, y = origin
        for run, font in self.runs(text):
            draw.text((x, y + self.ascent), run, font=font, fill=fill, anchor="ls")
            x += self._advance(run, font)

    def _advance(self, run: str, font: ImageFont.FreeTypeFont) -> float:
        key = (run, font is self.emoji_font)
        if key not in self._advances:
            if len(self._advances) >= _ADVANCES_KEPT:
                self._advances.clear()
            self._advances[key] = font.getlength(run)
        return self._advances[key]


@lru_cache(maxsize=32)
def lettering(size: int) -> Lettering:
    """One Lettering per size, kept: the emulator captions every picture it draws."""
    return Lettering(size)


def clusters(text: str) -> list[str]:
    """`text` cut where a line may break: an emoji sequence (ZWJ, skin tone, keycap, flag,
    variation selector) stays whole, so it is measured, wrapped and drawn as one."""
    found: list[str] = []
    for character in text:
        if found and _joins(found[-1], character):
            found[-1] += character
        else:
            found.append(character)
    return found


def _joins(previous: str, character: str) -> bool:
    code = ord(character)
    return (
        character == ZERO_WIDTH_JOINER
        or previous.endswith(ZERO_WIDTH_JOINER)
        or any(code in modifiers for modifiers in _MODIFIERS)
        or code in _TAGS
        or (
            code in _REGIONAL_INDICATORS
            and len(previous) == 1
            and ord(previous) in _REGIONAL_INDICATORS
        )
    )


def _wants_emoji_font(cluster: str) -> bool:
    """Noto Emoji when it has the character and the letters' font lacks part of the
    cluster, or the cluster asks to be shown as an emoji (U+FE0F)."""
    if not has_character(EMOJI_FONT, cluster[0]):
        return False
    return EMOJI_STYLE in cluster or not all(
        has_character(TEXT_FONT, character) for character in cluster
    )


@lru_cache(maxsize=4096)
def has_character(font_path: str, character: str) -> bool:
    """Whether the font has a glyph for `character`.

    Pillow shows no character map, and FreeType draws a character a font lacks as its
    .notdef glyph (the box, "tofu"), so one drawn exactly as that glyph is missing.
    """
    return _glyph(font_path, character) != _glyph(font_path, _MISSING)


@lru_cache(maxsize=4)
def _probe_font(font_path: str) -> ImageFont.FreeTypeFont:
    # Basic layout: one character, one glyph, no shaping that could hide the box.
    return ImageFont.truetype(font_path, _PROBE_SIZE, layout_engine=ImageFont.Layout.BASIC)


def _glyph(font_path: str, character: str) -> tuple[float, bytes]:
    """The advance and the pixels of `character` alone, drawn at the probe size."""
    canvas = Image.new("L", (_PROBE_SIZE * 3, _PROBE_SIZE * 3))
    with _PROBING:
        font = _probe_font(font_path)
        ImageDraw.Draw(canvas).text((_PROBE_SIZE, _PROBE_SIZE), character, font=font, fill=255)
        advance = font.getlength(character)
    return advance, canvas.tobytes()


def wrap(text: str, font: Lettering, max_width: float, max_lines: int) -> list[str]:
    """`text` in at most `max_lines` lines of at most `max_width` pixels, cut with "…".

    Lines break at spaces where they can. Widths are measured, not counted: a CJK
    character is about twice as wide as a Latin one, and CJK text has no spaces, so a line
    may also break between any two clusters (never inside an emoji sequence).
    """
    lines: list[str] = []
    line = ""
    pieces = clusters(" ".join(text.split()))
    for index, character in enumerate(pieces):
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
        if len(lines) == max_lines:
            rest = (line + "".join(pieces[index + 1 :])).strip()
            if rest:
                lines[-1] = _ellipsised(lines[-1], font, max_width)
            return lines
    if line.strip():
        lines.append(line.strip())
    return lines


def _ellipsised(line: str, font: Lettering, max_width: float) -> str:
    while line and font.getlength(line.rstrip() + " …") > max_width:
        line = "".join(clusters(line)[:-1])
    return line.rstrip() + " …"
