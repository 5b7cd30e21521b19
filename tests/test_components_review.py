"""components.review: a shared board for whoever holds its link, signed in or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import TextArea

from components import review_memory
from studio.runtime import Runtime
from tests.app_support import (
    APP_FILE,
    AUTH,
    GALLERY,
    RUN_TIMEOUT,
    app_as,
    open_app,
    open_app_studio,
    shown_text,
    texts,
)
from tests.board_support import BOARDS, board_of, local_service, shared_board

MARKUP = "**Bold** <img src=x onerror=alert(1)> :red[x]"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("STUDIO_REVIEW_CHANGES_PER_MINUTE", "4")
    yield from open_app_studio(tmp_path, monkeypatch)


def open_review(token: str, *, auth: dict[str, Any] | None = None) -> AppTest:
    """The app at /review?token=..., as someone who is not signed in."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    if auth is not None:
        app.secrets["auth"] = auth
        app.user = {"is_logged_in": False}
    app.query_params["token"] = token
    app.session_state[review_memory.ANSWERED.key] = True  # a browser that kept nothing
    app.run()
    assert not app.exception, app.exception
    return app


def comment_box(app: AppTest, number: int) -> TextArea:
    [box] = [box for box in app.text_area if box.label == f"Comment on image {number} (optional)"]
    return box


def give_name(app: AppTest, name: str) -> AppTest:
    app.text_input(key="review-name").set_value(name)
    return app.button(key="FormSubmitter:review-name-form-Start reviewing").click().run()


def in_grid(app: AppTest) -> AppTest:
    return app.button_group(key="review-view").set_value("Grid").run()


def test_the_link_shows_its_board_alone_one_image_at_a_time_or_as_a_grid(studio: Runtime) -> None:
    board, items = board_of(studio, "a fox", MARKUP, "a heron", name="Spring *campaign*")
    board_of(studio, "somebody else's board")
    app = open_review(shared_board(studio, board))

    assert [title.value for title in app.title] == ["Spring \\*campaign\\*"]
    assert texts(app) == ["a fox"]  # the first, large; the prompt as plain text
    assert len(app.sidebar.children) == 0  # no navigation, no key field, no counters
    assert "FoxAPI key" not in shown_text(app) and "Generate" not in shown_text(app)

    app.button(key="review-next").click().run()
    assert texts(app) == [MARKUP]
    app.button(key="review-previous").click().run()
    assert texts(app) == ["a fox"]

    app.button_group(key="review-view").set_value("Grid").run()
    assert texts(app) == ["a fox", MARKUP, "a heron"]
    assert [image.proto.imgs[0].alt for image in app.image] == ["a fox", MARKUP, "a heron"]
    assert "somebody else" not in shown_text(app)
    assert not app.get("link_button")  # no downloads unless the owner allowed them
    assert items


def test_a_name_first_then_votes_and_comments_that_can_change(studio: Runtime) -> None:
    board, (fox, heron) = board_of(studio, "a fox", "a heron")
    app = open_review(shared_board(studio, board, label="Acme"))
    assert app.button_group(key=f"review-vote-{fox.image.id}").disabled

    give_name(app, "   ")
    assert len(app.error) == 1  # next to the name field
    assert app.button_group(key=f"review-vote-{fox.image.id}").disabled

    give_name(app, "Jane\u202e <b>Doe</b>\x1b[2J\u2066")  # a direction override, an escape
    assert "Reviewing as Jane <b>Doe</b>[2J" in texts(app)  # as kept: nothing to act on
    in_grid(app)  # every image's controls at once: a verdict does not move on there
    app.button_group(key=f"review-vote-{fox.image.id}").set_value("Approve").run()
    comment_box(app, 1).set_value("Lovely *fur*")
    app.button(key=f"FormSubmitter:review-comment-{fox.image.id}-Save comment").click().run()
    app.button_group(key=f"review-vote-{fox.image.id}").set_value("Needs changes").run()

    said = local_service(studio).boards.verdicts([fox.image.id, heron.image.id])
    [note] = said[fox.image.id].notes
    assert (note.reviewer, note.vote, note.comment, note.link_label) == (
        "Jane <b>Doe</b>[2J",
        "changes",
        "Lovely *fur*",
        "Acme",
    )
    assert said[fox.image.id].approvals == 0 and said[fox.image.id].changes == 1
    assert said[heron.image.id].notes == ()


def test_a_returning_reviewer_finds_what_they_said(studio: Runtime) -> None:
    board, (fox,) = board_of(studio, "a fox")
    token = shared_board(studio, board)
    first = in_grid(give_name(open_review(token), "Jane"))
    first.button_group(key=f"review-vote-{fox.image.id}").set_value("Approve").run()
    comment_box(first, 1).set_value("Keep the fur")
    first.button(key=f"FormSubmitter:review-comment-{fox.image.id}-Save comment").click().run()

    again = open_review(token)  # a reload: a new session, the name asked again
    assert in_grid(again).button_group(key=f"review-vote-{fox.image.id}").value is None
    in_grid(give_name(again, "Jane"))

    assert again.button_group(key=f"review-vote-{fox.image.id}").value == "Approve"
    assert comment_box(again, 1).value == "Keep the fur"


def test_a_verdict_moves_on_and_the_summary_sends_the_review_to_the_owner(
    studio: Runtime,
) -> None:
    board, (fox, heron, owl) = board_of(studio, "a fox", "a heron", "an owl")
    app = give_name(open_review(shared_board(studio, board, label="Acme")), "Jane")
    assert "0 of 3 reviewed" in shown_text(app)

    app.button_group(key=f"review-vote-{fox.image.id}").set_value("Approve").run()
    assert texts(app)[-1] == "a heron"  # on to the next image without a verdict
    assert "1 of 3 reviewed" in shown_text(app)
    app.button(key="review-next").click().run()
    app.button_group(key=f"review-vote-{owl.image.id}").set_value("Needs changes").run()
    assert texts(app)[-1] == "a heron"  # the one left, before the summary
    app.button_group(key=f"review-vote-{heron.image.id}").set_value("Approve").run()

    assert "3 of 3 reviewed" in shown_text(app)
    assert "You approved 2 and asked for changes on 1." in [md.value for md in app.markdown]
    assert local_service(studio).boards.finished_reviews(board.id) == []
    app.button(key="review-send").click().run()
    [finished] = local_service(studio).boards.finished_reviews(board.id)
    assert (finished.reviewer, finished.link_label) == ("Jane", "Acme")
    assert len(app.success) == 1

    owner = open_app(BOARDS, board=str(board.id))
    assert any(
        text.startswith("\N{WHITE HEAVY CHECK MARK} Jane finished their review, via Acme")
        for text in texts(owner)
    )


def test_too_many_changes_say_so_next_to_the_vote_and_record_nothing(studio: Runtime) -> None:
    board, (fox,) = board_of(studio, "a fox")
    app = in_grid(give_name(open_review(shared_board(studio, board)), "Jane"))
    vote = f"review-vote-{fox.image.id}"
    for choice in ("Approve", "Needs changes", "Approve", "Needs changes"):  # 4 a minute
        app.button_group(key=vote).set_value(choice).run()

    app.button_group(key=vote).set_value("Approve").run()

    assert len(app.error) == 1 and "Too many" in app.error[0].value
    assert app.button_group(key=vote).value == "Needs changes"  # what is recorded
    assert local_service(studio).boards.verdicts([fox.image.id])[fox.image.id].changes == 1


def test_downloads_only_when_the_owner_allowed_them(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    app = open_review(shared_board(studio, board, allow_downloads=True))

    [download] = app.get("link_button")
    assert download.proto.url.startswith("/api/images/")
    assert "/download/" in download.proto.url and "viewer=review%3A" in download.proto.url


@pytest.mark.parametrize("how", ["revoked", "unknown", "truncated"])
def test_a_closed_link_shows_only_its_sentence(studio: Runtime, how: str) -> None:
    board, _items = board_of(studio, "a fox", name="Secret board")
    token = shared_board(studio, board)
    if how == "revoked":
        [link] = local_service(studio).boards.review_links(board.id)
        local_service(studio).boards.revoke_link(link.id)
    asked = {"revoked": token, "unknown": "x" * 32, "truncated": token[:-1]}[how]

    app = open_review(asked)

    [info] = app.info
    expected = {
        "revoked": "This review link was revoked by its owner.",
        "unknown": "This review link is not valid. Check that you copied all of it.",
        "truncated": "This review link is not valid. Check that you copied all of it.",
    }[how]
    assert info.value.replace("\\", "") == expected
    assert app.title == [] and app.image == [] and texts(app) == []
    assert "Secret board" not in shown_text(app)


def test_a_link_revoked_while_open_says_so_on_the_next_run(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    app = open_review(shared_board(studio, board))
    [link] = local_service(studio).boards.review_links(board.id)

    local_service(studio).boards.revoke_link(link.id)
    app.button_group(key="review-view").set_value("Grid").run()

    assert [info.value for info in app.info] == ["This review link was revoked by its owner\\."]
    assert app.image == []


def test_with_sign_in_configured_the_link_works_signed_out_and_nothing_else_does(
    studio: Runtime,
) -> None:
    board, _items = board_of(studio, "a fox", name="Client picks")
    app = open_review(shared_board(studio, board), auth=AUTH)
    assert texts(app) == ["a fox"]
    assert "Sign in" not in [button.label for button in app.button]

    for page in (GALLERY, BOARDS):
        gated = app_as({"is_logged_in": False}, page, board=str(board.id))
        assert [button.label for button in gated.button] == ["Sign in"]
        assert "Client picks" not in shown_text(gated)
