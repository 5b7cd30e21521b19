"""Sweeps: prompt variants and ratios expand into jobs, priced before anything is sent."""

from __future__ import annotations

import pytest

from studio.request import InvalidRequest
from studio.sweeps import MAX_VARIANTS, SweepCell, plan, variants


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a red fox", ["a red fox"]),
        ("a {red|blue} fox", ["a red fox", "a blue fox"]),
        (
            "a {red|blue} fox in {snow|rain}",
            ["a red fox in snow", "a red fox in rain", "a blue fox in snow", "a blue fox in rain"],
        ),
        (
            "a {dark {red|blue}|pale} fox",
            ["a dark red fox", "a dark blue fox", "a pale fox"],
        ),
        ("a fox {|at night}", ["a fox", "a fox at night"]),
        ("a {red|red} fox", ["a red fox"]),
        ("json like {this} stays", ["json like {this} stays"]),
        ("an unclosed {brace|stays", ["an unclosed {brace|stays"]),
        ("a closing } alone", ["a closing } alone"]),
        ("a {{nested}|plain} group", ["a {nested} group", "a plain group"]),
    ],
)
def test_variants_expand_in_reading_order(prompt: str, expected: list[str]) -> None:
    assert variants(prompt) == expected


def test_too_many_variants_are_refused_with_a_count() -> None:
    prompt = "{a|b|c|d} {e|f|g|h} {i|j|k|l} {m|n}"
    with pytest.raises(InvalidRequest) as refused:
        variants(prompt)
    assert refused.value.field == "prompt"
    assert "128 prompts" in refused.value.message
    assert str(MAX_VARIANTS) in refused.value.message


def test_a_sweep_is_priced_before_the_click() -> None:
    sweep = plan("a {red|blue} fox", ["16:9", "1:1", "9:16"], 1)
    assert sweep.images == 6
    assert sweep.price_line() == "6 images: 3 ratios x 2 variants x 1 image"
    assert sweep.cells[:3] == [
        SweepCell("a red fox", "16:9"),
        SweepCell("a red fox", "1:1"),
        SweepCell("a red fox", "9:16"),
    ]
    assert len(sweep.cells) == 6


def test_a_single_job_is_priced_plainly_and_duplicate_ratios_count_once() -> None:
    assert plan("a fox", ["1:1"], 2).price_line() == "2 images"
    assert not plan("a fox", ["1:1", "1:1"], 2).is_sweep
    assert plan("a fox", [], 1).cells == [SweepCell("a fox", None)]
    assert plan("a {red|blue} fox", ["1:1"], 4).price_line() == "8 images: 2 variants x 4 images"
