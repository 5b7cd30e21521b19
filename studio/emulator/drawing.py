"""Pictures the emulator hands out: quick, seeded, pleasant enough for a demo.

Everything is drawn at a reduced working scale and enlarged once at the end: that keeps
a drawing well under the time a poll takes and gives the soft look for free.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import itertools
import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageOps

from studio.emulator.captions import draw_caption
from studio.emulator.contract import DEFAULT_ASPECT_RATIO, DEFAULT_OUTPUT_FORMAT, RATIO_PIXELS

WORKING_SCALE = 0.5
RGB = tuple[int, int, int]

# Pillow's names for the formats FoxAPI offers, and what a CDN says they are.
PIL_FORMATS: dict[str, str] = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MEDIA_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


def result_size(aspect_ratio: str | None) -> tuple[int, int]:
    """Pixel size of a text-to-image result for `aspect_ratio` (upstream default 1:1)."""
    return RATIO_PIXELS[aspect_ratio or DEFAULT_ASPECT_RATIO]


def nearest_ratio_size(width: int, height: int) -> tuple[int, int]:
    """The documented result size whose shape is closest to a `width` x `height` input."""
    shape = math.log(width / height)
    return min(RATIO_PIXELS.values(), key=lambda size: abs(math.log(size[0] / size[1]) - shape))


def draw_generated(prompt: str, index: int, size: tuple[int, int], salt: str = "") -> Image.Image:
    """A landscape for `prompt`: palette from the prompt, composition from prompt+index+salt."""
    palette = _palette(prompt)
    rng = random.Random(_seed(prompt, str(index), salt))
    work = _working_size(size)
    canvas = _sky(work, palette[0], palette[1])
    _sun(canvas, rng, palette[2])
    _circles(canvas, rng, palette, count=rng.randint(3, 6), max_alpha=120)
    _mountains(canvas, rng, palette)
    return _finish(canvas, size, prompt)


def draw_edit(
    source: Image.Image, prompt: str, index: int, size: tuple[int, int], salt: str = ""
) -> Image.Image:
    """`source` cropped to `size`, toned and posterised per prompt, with a few shapes on top."""
    palette = _palette(prompt)
    rng = random.Random(_seed(prompt, str(index), salt))
    work = _working_size(size)
    picture = ImageOps.fit(
        ImageOps.exif_transpose(source).convert("RGB"), work, Image.Resampling.BILINEAR
    )
    toned = ImageOps.colorize(
        ImageOps.grayscale(picture), black=_shade(palette[3], 0.18), white=_shade(palette[1], 1.0)
    )
    blended = Image.blend(picture, toned, 0.35 + 0.1 * (index % 3))
    canvas = ImageOps.posterize(blended, 4 if index % 2 == 0 else 3).convert("RGBA")
    # Faint shapes only, so the input still shows through everywhere.
    _circles(canvas, rng, palette, count=rng.randint(2, 4), max_alpha=70)
    return _finish(canvas, size, prompt)


def encode(image: Image.Image, output_format: str | None) -> bytes:
    """`image` in the requested format (jpg/jpeg -> JPEG; unset -> JPEG like upstream)."""
    pil_format = PIL_FORMATS[output_format or DEFAULT_OUTPUT_FORMAT]
    buffer = io.BytesIO()
    if pil_format == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=88)
    elif pil_format == "PNG":
        # Fast compression: a demo picture should not cost a poll's worth of CPU.
        image.save(buffer, "PNG", compress_level=1)
    else:
        image.save(buffer, "WEBP", quality=82, method=0)
    return buffer.getvalue()


def open_source(data: bytes, target: tuple[int, int] | None = None) -> Image.Image:
    """Decode an input image, letting JPEG decode at reduced size when that is enough."""
    image = Image.open(io.BytesIO(data))
    if target is not None:
        image.draft("RGB", target)
    image.load()
    return image


def _working_size(size: tuple[int, int]) -> tuple[int, int]:
    return (max(1, round(size[0] * WORKING_SCALE)), max(1, round(size[1] * WORKING_SCALE)))


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _palette(prompt: str) -> list[RGB]:
    """Five related colours for a prompt: sky top, sky bottom, sun, and two accents."""
    rng = random.Random(_seed("palette", prompt))
    hue = rng.random()
    spread = rng.uniform(0.06, 0.18)

    def colour(offset: float, saturation: float, value: float) -> RGB:
        red, green, blue = colorsys.hsv_to_rgb((hue + offset) % 1.0, saturation, value)
        return (round(red * 255), round(green * 255), round(blue * 255))

    return [
        colour(0.0, rng.uniform(0.35, 0.6), rng.uniform(0.55, 0.8)),
        colour(spread, rng.uniform(0.2, 0.45), rng.uniform(0.88, 1.0)),
        colour(spread * 2 + 0.08, rng.uniform(0.3, 0.55), 1.0),
        colour(-spread, rng.uniform(0.45, 0.75), rng.uniform(0.35, 0.6)),
        colour(0.5 + spread, rng.uniform(0.3, 0.6), rng.uniform(0.6, 0.9)),
    ]


def _shade(colour: RGB, factor: float) -> RGB:
    return (
        min(255, round(colour[0] * factor)),
        min(255, round(colour[1] * factor)),
        min(255, round(colour[2] * factor)),
    )


def _mix(near: RGB, far: RGB, amount: float) -> RGB:
    return (
        round(near[0] + (far[0] - near[0]) * amount),
        round(near[1] + (far[1] - near[1]) * amount),
        round(near[2] + (far[2] - near[2]) * amount),
    )


def _sky(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGBA", size, bottom), Image.new("RGBA", size, top), mask)


def _sun(canvas: Image.Image, rng: random.Random, colour: RGB) -> None:
    width, height = canvas.size
    radius = round(min(width, height) * rng.uniform(0.07, 0.12))
    centre = (round(width * rng.uniform(0.15, 0.85)), round(height * rng.uniform(0.15, 0.4)))
    glow = radius * 3
    layer = Image.new("RGBA", (glow * 2, glow * 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    # Concentric discs, faint outside and solid in the middle, read as a soft glow.
    for step in range(6, 0, -1):
        reach = radius + (glow - radius) * (step - 1) / 5
        alpha = 255 if step == 1 else round(60 / step + 8)
        draw.ellipse((glow - reach, glow - reach, glow + reach, glow + reach), (*colour, alpha))
    canvas.alpha_composite(layer, (centre[0] - glow, centre[1] - glow))


def _circles(
    canvas: Image.Image, rng: random.Random, palette: Sequence[RGB], *, count: int, max_alpha: int
) -> None:
    width, height = canvas.size
    for _ in range(count):
        radius = max(2, round(min(width, height) * rng.uniform(0.06, 0.22)))
        colour = rng.choice(palette[1:])
        layer = Image.new("RGBA", (radius * 2, radius * 2), (0, 0, 0, 0))
        ImageDraw.Draw(layer).ellipse(
            (0, 0, radius * 2 - 1, radius * 2 - 1),
            (*colour, rng.randint(max_alpha // 2, max_alpha)),
        )
        position = (rng.randint(-radius, width - radius), rng.randint(-radius, height - radius))
        _composite_clipped(canvas, layer, position)


def _composite_clipped(canvas: Image.Image, layer: Image.Image, position: tuple[int, int]) -> None:
    # alpha_composite refuses negative offsets, so crop the part that hangs off the edge.
    left, top = position
    crop = (max(0, -left), max(0, -top), layer.width, layer.height)
    canvas.alpha_composite(layer.crop(crop), (max(0, left), max(0, top)))


def _mountains(canvas: Image.Image, rng: random.Random, palette: Sequence[RGB]) -> None:
    width, height = canvas.size
    layers = rng.randint(2, 3)
    for layer_index in range(layers):
        depth = (layer_index + 1) / layers
        base = height * (0.6 + 0.22 * depth)
        ridge = _ridge(rng, width, base, roughness=height * (0.2 - 0.08 * depth))
        # Far ridges fade into the sky, near ones are darker: cheap aerial perspective.
        colour = _mix(palette[1], _shade(palette[3], 0.8), 0.3 + 0.7 * depth)
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).polygon(
            [*ridge, (width, height), (0, height)], (*colour, round(170 + 85 * depth))
        )
        canvas.alpha_composite(layer)


def _ridge(
    rng: random.Random, width: int, base: float, roughness: float
) -> list[tuple[float, float]]:
    """A mountain skyline by midpoint displacement, as points from left to right."""
    points = [base - rng.uniform(0, roughness), base - rng.uniform(0, roughness)]
    spread = roughness
    for _ in range(5):
        spread *= 0.55
        refined = []
        for left, right in itertools.pairwise(points):
            refined += [left, (left + right) / 2 + rng.uniform(-spread, spread)]
        points = [*refined, points[-1]]
    step = width / (len(points) - 1)
    return [(index * step, height) for index, height in enumerate(points)]


def _finish(canvas: Image.Image, size: tuple[int, int], prompt: str) -> Image.Image:
    image = canvas.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    draw_caption(image, prompt)
    return image
