"""components.present: which images an address asks to present."""

from __future__ import annotations

from components.present import MAX_IMAGES, asked_images, selection_link


def test_a_selection_link_names_its_images_in_order_and_reads_back_the_same() -> None:
    link = selection_link([8, 3, 5])
    assert link == "/present?images=8,3,5"
    assert asked_images(link.split("=", 1)[1]) == [8, 3, 5]


def test_an_images_parameter_keeps_each_number_once_and_drops_what_is_not_one() -> None:
    assert asked_images("3,5,3, 7,,x,-2,1e3") == [3, 5, 7]
    assert asked_images("") == []
    assert asked_images("<script>") == []


def test_more_images_than_a_selection_presents_is_refused_not_cut_short() -> None:
    assert asked_images(",".join(map(str, range(MAX_IMAGES)))) is not None
    assert asked_images(",".join(map(str, range(MAX_IMAGES + 1)))) is None
