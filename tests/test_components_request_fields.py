"""components.request_fields: aspect ratio, format, number of images and what it bills."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.credentials import Backend
from studio.request import ASPECT_RATIOS
from studio.runtime import Runtime
from tests.app_support import RUN_TIMEOUT, open_app, open_app_studio, texts

# Wide, landscape, square, portrait and tall, in the order FoxAPI lists its sizes.
RATIO_ICONS = [
    ("2:1", ":material/crop_16_9:"),
    ("20:9", ":material/crop_16_9:"),
    ("19.5:9", ":material/crop_16_9:"),
    ("16:9", ":material/crop_16_9:"),
    ("3:2", ":material/crop_landscape:"),
    ("4:3", ":material/crop_landscape:"),
    ("1:1", ":material/crop_square:"),
    ("3:4", ":material/crop_portrait:"),
    ("2:3", ":material/crop_portrait:"),
    ("9:16", ":material/crop_9_16:"),
    ("9:19.5", ":material/crop_9_16:"),
    ("9:20", ":material/crop_9_16:"),
    ("1:2", ":material/crop_9_16:"),
]


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_the_form_offers_every_ratio_format_and_count(studio: Runtime) -> None:
    app = open_app()

    assert [title.value for title in app.title] == ["Generate"]
    ratio = app.button_group(key="generate_ratio")
    assert ratio.value == "1:1"
    assert len(ratio.options) == len(ASPECT_RATIOS) == 13
    assert app.button_group(key="generate_format").value == "auto"
    assert app.button_group(key="generate_count").value == 1
    assert "1 image will be drawn. The demo backend bills nothing." in [
        caption.value for caption in app.caption
    ]

    app.button_group(key="generate_count").set_value(3).run()

    assert "3 images will be drawn. The demo backend bills nothing." in [
        caption.value for caption in app.caption
    ]


# Scripts for AppTest.from_function: each runs alone, so it imports what it uses.


def _pickers() -> None:
    import streamlit as st

    from components import request_fields

    ratio = request_fields.ratio_picker("ratio")
    output_format = request_fields.format_picker("format")
    count = request_fields.count_picker("count")
    st.text(f"sends {ratio} {output_format} {count}")


def _billed(count: int, backend: str, ratios: tuple[str, ...] = ("1:1",), prompt: str = "") -> None:
    import streamlit as st

    from components import request_fields
    from studio.credentials import Backend, Credentials

    credentials = Credentials(Backend(backend), "http://127.0.0.1:9", "sk-x")
    said = request_fields.billed_line(count, credentials, ratios=ratios, prompt=prompt)
    st.text(f"said {said}")


def _run(script: Callable[..., None], *args: object) -> AppTest:
    """`script` alone as the page, run once."""
    app = AppTest.from_function(script, args=args, default_timeout=RUN_TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_13_ratios_come_widest_first_each_after_an_icon_of_its_shape() -> None:
    app = _run(_pickers)

    options = app.button_group(key="ratio").proto.options
    assert [(option.content, option.content_icon) for option in options] == RATIO_ICONS


@pytest.mark.parametrize(
    ("ratio", "size_and_shape"),
    [
        ("1:1", "1024 x 1024 px, square"),
        ("16:9", "1408 x 768 px, landscape"),
        ("19.5:9", "1248 x 576 px, landscape"),
        ("9:16", "768 x 1408 px, portrait"),
    ],
)
def test_the_chosen_ratio_is_named_by_its_pixel_size_and_shape(
    ratio: str, size_and_shape: str
) -> None:
    app = _run(_pickers)

    app.button_group(key="ratio").set_value(ratio).run()

    assert [caption.value for caption in app.caption] == [size_and_shape]
    assert texts(app) == [f"sends {ratio} None 1"]


def test_formats_carry_the_names_people_know_and_auto_sends_none() -> None:
    app = _run(_pickers)

    options = app.button_group(key="format").proto.options
    assert [option.content for option in options] == ["Auto", "JPG", "PNG", "WebP"]
    assert texts(app) == ["sends 1:1 None 1"]  # Auto: FoxAPI's own default
    app.button_group(key="format").set_value("png").run()
    assert texts(app) == ["sends 1:1 png 1"]


@pytest.mark.parametrize(
    ("backend", "count", "line"),
    [
        (Backend.DEMO, 1, "1 image will be drawn. The demo backend bills nothing."),
        (Backend.DEMO, 4, "4 images will be drawn. The demo backend bills nothing."),
        (Backend.FOXAPI, 1, "1 image will be billed by FoxAPI."),
        (Backend.FOXAPI, 3, "3 images will be billed by FoxAPI."),
    ],
)
def test_the_billed_line_says_how_many_images_and_who_bills_them(
    backend: Backend, count: int, line: str
) -> None:
    app = _run(_billed, count, backend.value)

    assert [caption.value for caption in app.caption] == [line]


def test_the_billed_line_multiplies_by_the_ratios_and_the_prompts_variants() -> None:
    app = _run(_billed, 1, Backend.DEMO.value, ("16:9", "1:1", "9:16"), "a {red|blue} fox")

    assert [caption.value for caption in app.caption] == [
        "6 images: 3 ratios x 2 variants x 1 image will be drawn. The demo backend bills nothing."
    ]
    assert texts(app) == ["said 6"]


def test_a_sweep_too_large_to_send_says_so_instead_of_a_price() -> None:
    too_many = "{a|b|c|d|e|f|g|h} {a|b|c|d|e|f|g|h} {1|2}"  # 128 prompts

    app = _run(_billed, 1, Backend.DEMO.value, ("1:1",), too_many)

    [caption] = app.caption
    assert "make 128 prompts; a sweep takes at most 64" in caption.value
    assert texts(app) == ["said None"]
