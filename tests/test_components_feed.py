"""components.feed: the person's recent work beside the controls, newest first, one card a
submission; sweeps from the Generate form priced before the click, confirmed above the
threshold, sent as one batch and shown as one grid of variants by ratios."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import feed
from studio.records import JobOrigin
from studio.runtime import Runtime
from tests.app_support import (
    live_jobs,
    open_app,
    open_app_studio,
    seed_images,
    seed_job,
    submit_generation,
)
from tests.conftest import posts

SWEEP = "a {red|blue} fox"
LAKE = "https://example.com/lake.png"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_IMAGES", "6")
    yield from open_app_studio(tmp_path, monkeypatch)


def in_three_ratios(app: AppTest) -> AppTest:
    app.button_group(key="generate_ratio").set_value("16:9").run()
    return app.multiselect(key="generate_more_ratios").set_value(["1:1", "9:16"]).run()


def sent(studio: Runtime) -> list[tuple[str, str]]:
    assert studio.demo is not None
    return [(body["prompt"], body["aspect_ratio"]) for body in posts(studio.demo)]  # type: ignore[index]


def test_a_sweep_is_priced_before_the_click_and_shown_as_a_grid(studio: Runtime) -> None:
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
    assert "Sweep: 2 variants x 3 ratios: 6 images" in [caption.value for caption in app.caption]
    assert {"16:9", "1:1", "9:16"} <= {caption.value for caption in app.caption}
    assert {"**a red fox**", "**a blue fox**"} <= {markdown.value for markdown in app.markdown}
    assert not app.warning  # 6 images is not above the threshold of 6


def test_the_prompts_variants_are_priced_before_the_click(studio: Runtime) -> None:
    app = in_three_ratios(open_app())
    app.text_area(key="generate_prompt").set_value(SWEEP).run()  # typed, then left

    assert "6 images: 3 ratios x 2 variants x 1 image will be drawn. " in " ".join(
        caption.value for caption in app.caption
    )
    assert sent(studio) == []


def test_variants_typed_and_sent_at_once_are_confirmed_first(studio: Runtime) -> None:
    app = in_three_ratios(open_app())  # priced at 3 images: the prompt is not in yet
    app.text_area(key="generate_prompt").set_value(SWEEP)

    app.button(key="generate-send").click().run()  # Ctrl+Enter: the prompt and the press
    app.button(key="generate-send").click().run()  # pressed again: still no yes

    assert sent(studio) == []
    [warning] = app.warning
    assert "This sweep sends 6 jobs: 6 images: 3 ratios x 2 variants x 1 image" in warning.value
    app.button(key="generate-sweep-confirm").click().run()
    assert len(sent(studio)) == 6


def test_more_ratios_chosen_and_sent_at_once_are_sent_without_asking(studio: Runtime) -> None:
    """The ratios show in their own widget: a line a step behind them is no reason to ask."""
    app = open_app()  # priced at 1 image
    app.button_group(key="generate_ratio").set_value("16:9")
    app.multiselect(key="generate_more_ratios").set_value(["1:1"])
    app.text_area(key="generate_prompt").set_value("a fox")

    app.button(key="generate-send").click().run()  # chosen, typed and pressed in one go

    assert sent(studio) == [("a fox", "16:9"), ("a fox", "1:1")]
    assert not app.warning


def test_a_sweep_above_the_threshold_waits_for_a_yes(studio: Runtime) -> None:
    app = in_three_ratios(open_app())
    app.button_group(key="generate_count").set_value(2).run()

    app = submit_generation(app, SWEEP)

    assert sent(studio) == []
    [warning] = app.warning
    assert "12 images: 3 ratios x 2 variants x 2 images" in warning.value
    app.button(key="generate-sweep-confirm").click().run()
    assert len(sent(studio)) == 6
    assert not [button for button in app.button if button.key == "generate-sweep-confirm"]


def test_a_sweep_can_be_cancelled(studio: Runtime) -> None:
    app = in_three_ratios(open_app())
    app.button_group(key="generate_count").set_value(2).run()
    app = submit_generation(app, SWEEP)

    app.button(key="generate-sweep-cancel").click().run()

    assert sent(studio) == []
    assert not app.warning


def test_the_sweep_downloads_as_a_contact_sheet(studio: Runtime) -> None:
    app = submit_generation(in_three_ratios(open_app()), SWEEP)

    labels = [button.label for button in app.get("download_button")]

    assert {"Contact sheet (PNG)", "Contact sheet (PDF)"} <= set(labels)
    batch_id = studio.store.jobs.jobs()[0].origin.batch_id
    assert batch_id is not None
    assert studio.service.jobs.contact_sheet(batch_id, "pdf").startswith(b"%PDF-")


# The feed ----------------------------------------------------------------------------


def test_the_feed_is_the_stores_recent_work_newest_first_in_a_fresh_session(
    studio: Runtime,
) -> None:
    """A reload or another tab has no session state: the feed is read from the store."""
    seed_images(studio.store, studio.archive, "an older fox", count=2)
    seed_job(studio.store, "a fox still drawing", progress=30)
    seed_images(studio.store, studio.archive, "a moon over the lake", image_urls=[LAKE])

    app = open_app()  # Generate: its own mode's work alone

    assert [text.value for text in app.text] == ["a fox still drawing", "an older fox"]
    assert [job["words"] for job in live_jobs(app)] == ["Generating 30 %"]
    assert [image.proto.imgs[0].alt for image in app.image] == ["an older fox"] * 2
    edit = open_app("pages/edit.py")
    assert "a moon over the lake" in [text.value for text in edit.text]


def test_a_card_says_its_images_in_the_trash_went_there_and_did_not_expire(
    studio: Runtime,
) -> None:
    first, _second = seed_images(studio.store, studio.archive, "two foxes", count=2)
    studio.service.gallery.trash.move([first.image.id])

    app = open_app()

    assert len(app.image) == 1
    captions = [caption.value for caption in app.caption]
    assert "1 image moved to the Trash." in captions
    assert not any("expired" in caption for caption in captions)


def test_a_card_says_its_images_emptied_from_the_trash_went_for_good(studio: Runtime) -> None:
    first, _second, third = seed_images(studio.store, studio.archive, "three foxes", count=3)
    studio.service.gallery.trash.move([first.image.id, third.image.id])
    studio.service.gallery.trash.delete_for_good([third.image.id])

    app = open_app()

    assert len(app.image) == 1
    captions = [caption.value for caption in app.caption]
    assert "1 image moved to the Trash." in captions
    assert "1 image deleted for good from the Trash." in captions
    assert not any("expired" in caption for caption in captions)


def test_a_sweep_is_one_card_with_every_image_of_every_cell(studio: Runtime) -> None:
    sweep = JobOrigin(batch_id="batch-12")
    for prompt in ("a red fox", "a blue fox"):
        for ratio in ("16:9", "1:1", "9:16"):
            seed_images(
                studio.store, studio.archive, prompt, count=2, aspect_ratio=ratio, origin=sweep
            )

    app = open_app()

    assert "Sweep: 2 variants x 3 ratios: 12 images" in [caption.value for caption in app.caption]
    assert len(app.image) == 12
    assert len([button for button in app.button if button.label == "Open"]) == 12
    assert [markdown.value for markdown in app.markdown][:2] == ["**a red fox**", "**a blue fox**"]


def test_submissions_keep_a_sweeps_jobs_together_in_the_order_sent(studio: Runtime) -> None:
    sweep = JobOrigin(batch_id="batch-1")
    first = seed_job(studio.store, "a red fox", origin=sweep)
    second = seed_job(studio.store, "a blue fox", origin=sweep)
    single = seed_job(studio.store, "a lone fox")

    entries = feed.submissions(studio.service.jobs.recent_jobs(10))

    assert [[job.id for job in entry.jobs] for entry in entries] == [
        [single.id],
        [first.id, second.id],
    ]
    assert [entry.is_sweep for entry in entries] == [False, True]


def test_a_demo_edit_says_which_of_its_links_the_demo_did_not_fetch(studio: Runtime) -> None:
    own = f"{studio.service.jobs.server_credentials.base_url}/cdn/uploads/harbour.png"
    seed_images(studio.store, studio.archive, "a lake by night", image_urls=[own, LAKE])
    seed_images(studio.store, studio.archive, "a lake at dawn", image_urls=[LAKE])

    app = open_app("pages/edit.py")

    captions = [caption.value for caption in app.caption]
    assert captions.count(feed.DEMO_LEFT_OUT_NOTE) == 1  # its upload was edited
    assert captions.count(feed.DEMO_PLACEHOLDER_NOTE) == 1  # nothing of its own to edit
