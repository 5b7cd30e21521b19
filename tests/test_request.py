"""The generation request: what reaches FoxAPI, and what a person is told when input is bad."""

import pytest

from studio.request import ASPECT_RATIOS, GenerationRequest, InvalidRequest, Mode


def test_text_to_image_body_has_exactly_the_documented_fields() -> None:
    request = GenerationRequest.build(
        prompt="  a red fox in the snow  ", aspect_ratio="16:9", output_format="PNG", num_outputs=2
    )
    assert request.body() == {
        "model": "grok-imagine-image",
        "prompt": "a red fox in the snow",
        "num_outputs": 2,
        "aspect_ratio": "16:9",
        "output_format": "png",
    }
    assert request.mode is Mode.GENERATE


def test_unset_options_are_left_out_not_sent_as_null() -> None:
    assert GenerationRequest.build(prompt="fox").body() == {
        "model": "grok-imagine-image",
        "prompt": "fox",
        "num_outputs": 1,
    }


def test_edit_mode_sends_urls_and_never_an_aspect_ratio() -> None:
    request = GenerationRequest.build(
        prompt="make it night", image_urls=["https://cdn.example/a.png"], output_format="webp"
    )
    assert request.mode is Mode.EDIT
    assert request.body() == {
        "model": "grok-imagine-image",
        "prompt": "make it night",
        "num_outputs": 1,
        "output_format": "webp",
        "image_urls": ["https://cdn.example/a.png"],
    }


def test_all_thirteen_ratios_are_accepted() -> None:
    assert len(ASPECT_RATIOS) == 13
    for ratio in ASPECT_RATIOS:
        assert (
            GenerationRequest.build(prompt="p", aspect_ratio=ratio).body()["aspect_ratio"] == ratio
        )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"prompt": ""}, "prompt", "Type a prompt"),
        ({"prompt": "   \n\t "}, "prompt", "Type a prompt"),
        ({"prompt": "x" * 4001}, "prompt", "4,001 characters"),
        ({"prompt": "p", "num_outputs": 0}, "num_outputs", "between 1 and 4"),
        ({"prompt": "p", "num_outputs": 5}, "num_outputs", "between 1 and 4"),
        ({"prompt": "p", "aspect_ratio": "5:4"}, "aspect_ratio", "“5:4” is not an aspect ratio"),
        ({"prompt": "p", "output_format": "gif"}, "output_format", "“gif” is not a format"),
        ({"prompt": "p", "image_urls": ["https://a.example/1.png"] * 4}, "image_urls", "at most 3"),
        ({"prompt": "p", "image_urls": ["ftp://a.example/1.png"]}, "image_urls", "https://"),
        ({"prompt": "p", "image_urls": ["javascript:alert(1)"]}, "image_urls", "https://"),
        ({"prompt": "p", "image_urls": ["images/1.png"]}, "image_urls", "https://"),
        (
            {"prompt": "p", "image_urls": ["https://a.example/1.png"], "aspect_ratio": "1:1"},
            "aspect_ratio",
            "takes no aspect ratio",
        ),
    ],
)
def test_bad_input_names_the_field_in_plain_words(
    fields: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        GenerationRequest.build(**fields)
    assert caught.value.field == field
    assert words in caught.value.message
    assert "Value error" not in caught.value.message


def test_prompt_limit_is_a_setting() -> None:
    GenerationRequest.build(prompt="x" * 4000)
    with pytest.raises(InvalidRequest):
        GenerationRequest.build(prompt="x" * 11, max_prompt_chars=10)


def test_request_survives_a_round_trip_through_the_store_format() -> None:
    request = GenerationRequest.build(prompt="fox", num_outputs=3, aspect_ratio="9:16")
    assert GenerationRequest.from_json(request.to_json()) == request
