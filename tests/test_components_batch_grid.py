"""Sweeps from the Generate form: priced before the click, confirmed above the threshold,
sent as one batch and shown as a grid of variants by ratios."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.runtime import Studio
from tests.app_support import open_app, open_app_studio, submit_generation
from tests.conftest import posts

SWEEP = "a {red|blue} fox"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_IMAGES", "6")
    yield from open_app_studio(tmp_path, monkeypatch)


def in_three_ratios(app: AppTest) -> AppTest:
    app.button_group(key="generate_ratio").set_value("16:9").run()
    return app.multiselect(key="generate_more_ratios").set_value(["1:1", "9:16"]).run()


def sent(studio: Studio) -> list[tuple[str, str]]:
    assert studio.demo is not None
    return [(body["prompt"], body["aspect_ratio"]) for body in posts(studio.demo)]  # type: ignore[index]


def test_a_sweep_is_priced_before_the_click_and_shown_as_a_grid(studio: Studio) -> None:
    app = in_three_ratios(open_app())
    assert any(
        caption.value.startswith("3 images: 3 ratios x 1 image will be drawn")
        for caption in app.caption
    )

    app = submit_generation(app, SWEEP)

    assert sent(studio) == [
        (prompt, ratio)
        for prompt in ("a red fox", "a blue fox")
        for ratio in ("16:9", "1:1", "9:16")
    ]
    assert "Latest sweep" in [header.value for header in app.subheader]
    headers = [markdown.value for markdown in app.markdown]
    assert {"**16:9**", "**1:1**", "**9:16**"} <= set(headers)
    assert {"a red fox", "a blue fox"} <= {text.value for text in app.text}
    assert not app.warning  # 6 images is not above the threshold of 6


def test_the_prompts_variants_are_priced_before_the_click(studio: Studio) -> None:
    app = in_three_ratios(open_app())
    app.text_area(key="generate_prompt").set_value(SWEEP).run()  # typed, then left

    assert "6 images: 3 ratios x 2 variants x 1 image will be drawn. " in " ".join(
        caption.value for caption in app.caption
    )
    assert sent(studio) == []


def test_variants_typed_and_sent_at_once_are_confirmed_first(studio: Studio) -> None:
    app = in_three_ratios(open_app())  # priced at 3 images: the prompt is not in yet
    app.text_area(key="generate_prompt").set_value(SWEEP)

    app.button(key="generate-send").click().run()  # Ctrl+Enter: the prompt and the press
    app.button(key="generate-send").click().run()  # pressed again: still no yes

    assert sent(studio) == []
    [warning] = app.warning
    assert "This sweep sends 6 jobs: 6 images: 3 ratios x 2 variants x 1 image" in warning.value
    app.button(key="generate-sweep-confirm").click().run()
    assert len(sent(studio)) == 6


def test_more_ratios_chosen_and_sent_at_once_are_sent_without_asking(studio: Studio) -> None:
    """The ratios show in their own widget: a line a step behind them is no reason to ask."""
    app = open_app()  # priced at 1 image
    app.button_group(key="generate_ratio").set_value("16:9")
    app.multiselect(key="generate_more_ratios").set_value(["1:1"])
    app.text_area(key="generate_prompt").set_value("a fox")

    app.button(key="generate-send").click().run()  # chosen, typed and pressed in one go

    assert sent(studio) == [("a fox", "16:9"), ("a fox", "1:1")]
    assert not app.warning


def test_a_sweep_above_the_threshold_waits_for_a_yes(studio: Studio) -> None:
    app = in_three_ratios(open_app())
    app.button_group(key="generate_count").set_value(2).run()

    app = submit_generation(app, SWEEP)

    assert sent(studio) == []
    [warning] = app.warning
    assert "12 images: 3 ratios x 2 variants x 2 images" in warning.value
    app.button(key="generate-sweep-confirm").click().run()
    assert len(sent(studio)) == 6
    assert not [button for button in app.button if button.key == "generate-sweep-confirm"]


def test_a_sweep_can_be_cancelled(studio: Studio) -> None:
    app = in_three_ratios(open_app())
    app.button_group(key="generate_count").set_value(2).run()
    app = submit_generation(app, SWEEP)

    app.button(key="generate-sweep-cancel").click().run()

    assert sent(studio) == []
    assert not app.warning


def test_the_sweep_downloads_as_a_contact_sheet(studio: Studio) -> None:
    app = submit_generation(in_three_ratios(open_app()), SWEEP)

    labels = [button.label for button in app.get("download_button")]

    assert {"Contact sheet (PNG)", "Contact sheet (PDF)"} <= set(labels)
    batch_id = app.session_state["latest_batch"]
    assert studio.service.jobs.contact_sheet(batch_id, "pdf").startswith(b"%PDF-")
