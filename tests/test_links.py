"""Signed links: how long they live, and the viewer a reviewer's link is signed for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request

from studio.links import LINK_WINDOW, UrlSigner, review_viewer, viewer_link_id


def test_a_link_lives_until_the_end_of_the_next_hour_and_no_longer() -> None:
    now = [10 * LINK_WINDOW + 5.0]
    signer = UrlSigner(b"secret", clock=lambda: now[0])
    link = signer.sign("/api/images/1/thumb/abc.webp", "local")
    same_hour = signer.sign("/api/images/1/thumb/abc.webp", "local")
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])

    assert link == same_hour  # the browser's cache keeps working within the hour
    assert expires == 12 * LINK_WINDOW
    request_scope = {
        "type": "http",
        "path": urlsplit(link).path,
        "query_string": urlsplit(link).query.encode(),
        "headers": [],
    }
    assert signer.viewer(Request(request_scope)) == "local"
    now[0] = expires + 1
    assert signer.viewer(Request(request_scope)) is None


def test_a_reviewers_viewer_names_its_review_link_and_nothing_else_does() -> None:
    assert viewer_link_id(review_viewer(42)) == 42
    assert viewer_link_id("local") is None
    assert viewer_link_id("review:") is None
    assert viewer_link_id("review:4x") is None
