"""Sweeps: one prompt with `{a|b|c}` variants, sent in several ratios, priced before the click.

`A {red|blue} fox` is two prompts; groups nest (`{dark {red|blue}|pale}`) and several
groups multiply. A brace group without `|` at its own level, or an unbalanced brace,
is plain text, so prompts that use braces for other reasons are left as typed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from studio.request import InvalidRequest

MAX_VARIANTS = 64
MAX_JOBS = 64  # one click sends at most this many jobs


@dataclass(frozen=True)
class _Text:
    value: str


@dataclass(frozen=True)
class _Choice:
    options: tuple[tuple[_Part, ...], ...]


_Part = _Text | _Choice


def variants(prompt: str) -> list[str]:
    """Every prompt `prompt` stands for, in reading order, without duplicates."""
    parts, _ = _parse(prompt, 0, top=True)
    expanded = _expand(parts)
    if len(expanded) > MAX_VARIANTS:
        raise InvalidRequest(
            "prompt",
            f"These {{a|b}} variants make {len(expanded):,} prompts; "
            f"a sweep takes at most {MAX_VARIANTS}. Remove some options.",
        )
    cleaned = [" ".join(text.split()) for text in expanded]
    # Nothing left (a blank prompt): the prompt as typed, for its check to refuse.
    return list(dict.fromkeys(text for text in cleaned if text)) or [prompt]


def _parse(text: str, start: int, *, top: bool) -> tuple[tuple[_Part, ...], int]:
    """Parts from `start` up to the `|` or `}` closing this level (or the end at the top)."""
    parts: list[_Part] = []
    literal: list[str] = []
    position = start
    while position < len(text):
        char = text[position]
        if char == "{":
            group = _group(text, position)
            if group is None:
                literal.append(char)
                position += 1
                continue
            choice, position = group
            if literal:
                parts.append(_Text("".join(literal)))
                literal = []
            parts.append(choice)
            continue
        if not top and char in "|}":
            break
        literal.append(char)
        position += 1
    if literal:
        parts.append(_Text("".join(literal)))
    return tuple(parts), position


def _group(text: str, start: int) -> tuple[_Part, int] | None:
    """The group opening at `start`, and where it ends; None when it is plain text."""
    options: list[tuple[_Part, ...]] = []
    position = start + 1
    while position < len(text):
        option, position = _parse(text, position, top=False)
        options.append(option)
        if position >= len(text):
            return None  # never closed: the brace is text
        if text[position] == "}":
            end = position + 1
            if len(options) == 1:
                return _Text(text[start:end]), end  # no choice at this level
            return _Choice(tuple(options)), end
        position += 1  # past the "|"
    return None


def _expand(parts: tuple[_Part, ...]) -> list[str]:
    pieces: list[list[str]] = []
    for part in parts:
        if isinstance(part, _Text):
            pieces.append([part.value])
        else:
            pieces.append([text for option in part.options for text in _expand(option)])
    return ["".join(combination) for combination in itertools.product(*pieces)]


@dataclass(frozen=True)
class SweepCell:
    """One job of a sweep: a row (the prompt variant) and a column (the ratio)."""

    prompt: str
    aspect_ratio: str | None


@dataclass(frozen=True)
class SweepPlan:
    prompts: tuple[str, ...]
    ratios: tuple[str | None, ...]
    images_per_job: int

    @property
    def cells(self) -> list[SweepCell]:
        """Row by row: every ratio of the first variant, then of the next."""
        return [SweepCell(prompt, ratio) for prompt in self.prompts for ratio in self.ratios]

    @property
    def images(self) -> int:
        return len(self.prompts) * len(self.ratios) * self.images_per_job

    @property
    def is_sweep(self) -> bool:
        return len(self.cells) > 1

    def price_line(self) -> str:
        """What one click bills: "6 images: 3 ratios x 2 variants x 1 image"."""
        total = _count(self.images, "image")
        if not self.is_sweep:
            return total
        factors = []
        if len(self.ratios) > 1:
            factors.append(_count(len(self.ratios), "ratio"))
        if len(self.prompts) > 1:
            factors.append(_count(len(self.prompts), "variant"))
        factors.append(_count(self.images_per_job, "image"))
        return f"{total}: {' x '.join(factors)}"


def plan(
    prompt: str, ratios: list[str | None] | tuple[str | None, ...], images_per_job: int
) -> SweepPlan:
    """The jobs a prompt with variants makes in each of `ratios` (kept in the order given)."""
    chosen = tuple(dict.fromkeys(ratios)) or (None,)
    sweep = SweepPlan(tuple(variants(prompt)), chosen, images_per_job)
    if len(sweep.cells) > MAX_JOBS:
        raise InvalidRequest(
            "aspect_ratio",
            f"This sweep makes {len(sweep.cells)} jobs; one click sends at most {MAX_JOBS}. "
            "Choose fewer ratios or variants.",
        )
    return sweep


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"
