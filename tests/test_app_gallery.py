"""The Gallery page in AppTest: empty, in flight, failed, filters, pages, the dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import (
    finish_seeded,
    live_jobs,
    open_app,
    open_app_studio,
    seed_images,
    seed_job,
    shown_text,
)

from components.text import escape_markdown
from studio.records import GalleryFilter
from studio.request import Mode
from studio.runtime import Studio
from studio.states import IN_FLIGHT, WAITING_FOR_KEY, JobStatus

GALLERY = "pages/gallery.py"
MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def _texts(app: object) -> list[str]:
    return [element.value for element in app.text]  # type: ignore[attr-defined]


def test_empty_gallery_says_how_to_start(studio: Studio) -> None:
    app = open_app(GALLERY)

    assert [info.value for info in app.info if "No images yet" in info.value] == [
        "No images yet. Generate your first on the Generate page."
    ]
    assert "gallery_search" not in [widget.key for widget in app.text_input]


def test_grid_shows_thumbnails_with_the_prompt_as_alt_text_and_as_plain_text(
    studio: Studio,
) -> None:
    seed_images(studio.store, studio.archive, MARKUP, aspect_ratio="16:9", output_format="png")

    app = open_app(GALLERY)

    [thumbnail] = app.image
    assert thumbnail.proto.imgs[0].alt == MARKUP
    assert thumbnail.value[0].startswith("data:image/webp;base64,")
    assert MARKUP in _texts(app)  # st.text: never read as Markdown or HTML
    assert any("16:9" in caption.value and "PNG" in caption.value for caption in app.caption)


def test_pages_of_24_with_previous_and_next_in_the_url(studio: Studio) -> None:
    for n in range(30):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY)
    assert len(app.image) == 24
    assert "Page 1 of 2" in [markdown.value for markdown in app.markdown]
    assert app.button(key="gallery-previous").disabled

    app.button(key="gallery-next").click().run()

    assert app.query_params["page"] == "2"
    assert len(app.image) == 6
    assert "Page 2 of 2" in [markdown.value for markdown in app.markdown]
    assert "lighthouse number 0" in _texts(app)  # the oldest is last
    assert app.button(key="gallery-next").disabled


def test_filters_come_from_the_url(studio: Studio) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")
    seed_images(studio.store, studio.archive, "a lighthouse at dusk", favourite=True)
    seed_images(
        studio.store, studio.archive, "the fox, now at night", image_urls=["https://e.x/a.png"]
    )

    searched = open_app(GALLERY, q="fox")
    assert sorted(_texts(searched)) == ["a red fox in the snow", "the fox, now at night"]
    assert searched.text_input(key="gallery_search").value == "fox"

    edits = open_app(GALLERY, q="fox", mode="edit")
    assert _texts(edits) == ["the fox, now at night"]
    assert edits.button_group(key="gallery_mode").value == "edit"

    favourites = open_app(GALLERY, fav="1")
    assert _texts(favourites) == ["a lighthouse at dusk"]
    assert favourites.toggle(key="gallery_favourites").value is True

    nothing = open_app(GALLERY, q="zebra")
    assert any("No images match" in info.value for info in nothing.info)


def test_changing_a_filter_writes_it_to_the_url_and_goes_back_to_page_one(studio: Studio) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")
    seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(GALLERY, page="2")

    app.text_input(key="gallery_search").set_value("lighthouse").run()

    assert app.query_params.get("q") == "lighthouse"
    assert "page" not in app.query_params
    assert _texts(app) == ["a lighthouse at dusk"]


def test_jobs_in_flight_show_progress_in_words(studio: Studio) -> None:
    seed_job(studio.store, "a fox being drawn", status=JobStatus.RUNNING, progress=45)
    seed_job(studio.store, "a fox waiting its turn", status=JobStatus.QUEUED)

    app = open_app(GALLERY)

    assert "In progress" in [header.value for header in app.subheader]
    progress = {job["words"]: job["progress"] for job in live_jobs(app)}
    assert progress["Generating 45 %"] == 45
    assert progress["Queued"] == 0
    # The browser shows the time elapsed against FoxAPI's estimate, ticking between polls.
    assert all(job["estimated"] == 45 and job["elapsed"] >= 0 for job in live_jobs(app))


def test_a_finished_job_leaves_the_live_cards_with_a_toast(studio: Studio) -> None:
    [job] = [seed_job(studio.store, "a fox nearly done", progress=90)]
    app = open_app(GALLERY)
    assert live_jobs(app)

    finish_seeded(studio.store, job)
    app.run()

    assert not live_jobs(app)
    assert [toast.value for toast in app.toast] == ["Ready: “a fox nearly done” is in the gallery."]


def test_a_job_whose_typed_key_is_gone_waits_for_it(studio: Studio) -> None:
    seed_job(studio.store, "sent with a key typed before a restart", key_id="key-0123456789abcdef")

    app = open_app(GALLERY)

    assert [job["words"] for job in live_jobs(app)] == [WAITING_FOR_KEY]


def test_failed_job_shows_the_reason_and_retries_after_confirming(studio: Studio) -> None:
    failed = seed_job(
        studio.store,
        "a fox the model refused",
        status=JobStatus.FAILED,
        error_message="The prompt was refused by the content policy.",
    )
    app = open_app(GALLERY)
    reason = "Failed: The prompt was refused by the content policy."
    assert [error.value for error in app.error] == [escape_markdown(reason)]

    app.button(key=f"attention-{failed.id}-retry").click().run()
    assert not studio.store.jobs(IN_FLIGHT)  # nothing is sent before the confirmation
    assert any("sends the same request again" in caption.value for caption in app.caption)

    app.button(key=f"attention-{failed.id}-retry-confirm").click().run()

    [retried] = [job for job in studio.store.jobs() if job.retry_of == failed.id]
    assert retried.prompt == failed.prompt
    assert retried.task_id is not None  # accepted by the demo backend
    assert any(toast.value.startswith("Sent again") for toast in app.toast)
    assert f"attention-{failed.id}-retry" not in [button.key for button in app.button]


def test_outcome_unknown_says_what_happened_and_offers_retry(studio: Studio) -> None:
    unknown = seed_job(
        studio.store,
        "a fox sent as the network dropped",
        status=JobStatus.UNKNOWN,
        error_message="FoxAPI did not answer in time. It was not sent again.",
    )

    app = open_app(GALLERY)

    assert [warning.value for warning in app.warning] == ["Outcome unknown"]
    assert any("not sent again" in caption.value for caption in app.caption)
    assert app.button(key=f"attention-{unknown.id}-retry").label == "Retry"


def test_dialog_opened_from_session_state_shows_settings_and_actions(studio: Studio) -> None:
    first, second = seed_images(
        studio.store, studio.archive, MARKUP, count=2, aspect_ratio="9:16", output_format="png"
    )
    app = open_app(GALLERY)
    app.session_state["open_image"] = first.image.id
    app.run()

    assert [code.value for code in app.code] == [MARKUP]  # st.code: literal, with a copy button
    settings = " ".join(markdown.value for markdown in app.markdown)
    assert "**Aspect ratio:** 9\\:16" in settings
    assert "**Image:** 1 of 2" in settings
    download = app.get("download_button")
    assert any(button.label == "Download" for button in download)
    assert app.toggle(key=f"lightbox-favourite-{first.image.id}").value is False

    app.toggle(key=f"lightbox-favourite-{first.image.id}").set_value(True).run()
    assert studio.store.image(first.image.id).image.favourite is True  # type: ignore[union-attr]

    app.button(key="lightbox-next").click().run()
    assert app.session_state["open_image"] == second.image.id
    assert "**Image:** 2 of 2" in " ".join(markdown.value for markdown in app.markdown)


def test_reuse_settings_opens_generate_filled_in(studio: Studio) -> None:
    [item] = seed_images(
        studio.store,
        studio.archive,
        "a lighthouse at dusk",
        aspect_ratio="3:2",
        output_format="webp",
    )
    app = open_app(GALLERY)
    app.session_state["open_image"] = item.image.id
    app.run()

    app.button(key=f"lightbox-reuse-{item.image.id}").click().run()

    assert not app.exception
    assert [title.value for title in app.title] == ["Generate"]
    assert app.text_area(key="generate_prompt").value == "a lighthouse at dusk"
    assert app.button_group(key="generate_ratio").value == "3:2"
    assert app.button_group(key="generate_format").value == "webp"
    assert "open_image" not in app.session_state


def test_edit_this_image_opens_edit_with_it_as_input(studio: Studio) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(GALLERY)
    app.session_state["open_image"] = item.image.id
    app.run()

    app.button(key=f"lightbox-edit-{item.image.id}").click().run()

    assert [title.value for title in app.title] == ["Edit"]
    assert "**Input images** (1 of 3)" in [markdown.value for markdown in app.markdown]


def test_selected_images_can_be_downloaded_together(studio: Studio) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    idle = app.button(key="gallery-download-none")
    assert idle.label == "Download selected (0)"
    assert idle.disabled

    app.checkbox(key=f"select-image-{items[0].image.id}").check().run()
    app.checkbox(key=f"select-image-{items[2].image.id}").check().run()

    [download] = [
        button for button in app.get("link_button") if "Download selected" in button.proto.label
    ]
    assert download.proto.label == "Download selected (2)"
    assert not download.proto.disabled
    ids = f"{items[0].image.id},{items[2].image.id}"
    assert download.proto.url.startswith(f"/api/zip/{ids}?viewer=local&expires=")


def test_prompts_are_never_read_as_markup(studio: Studio) -> None:
    seed_images(studio.store, studio.archive, MARKUP)
    seed_job(studio.store, MARKUP, status=JobStatus.FAILED, error_message="<b>nope</b> **no**")

    app = open_app(GALLERY)

    for element in [*app.markdown, *app.caption, *app.error, *app.warning, *app.info]:
        assert "<img" not in element.value
        assert "**bold**" not in element.value
        assert "<b>" not in element.value
    assert [error.value for error in app.error] == [escape_markdown("Failed: <b>nope</b> **no**")]
    assert studio.store.gallery_count(GalleryFilter(mode=Mode.GENERATE)) == 1
    assert MARKUP in shown_text(app)


def test_a_link_past_the_last_page_shows_the_last_page(studio: Studio) -> None:
    for n in range(26):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY, page="9", mode="nonsense")

    assert len(app.image) == 2
    assert "Page 2 of 2" in [markdown.value for markdown in app.markdown]
    assert app.query_params["page"] == "2"
