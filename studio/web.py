"""What the server answers over plain HTTP beside Streamlit: images, downloads, progress,
and the uploads edits were made from (input assets).

Pages put signed links to these routes in the page instead of the bytes themselves, so
an image travels once per browser (its link is content-addressed and cached for a year)
and a zip streams from the archive instead of being built whole in memory.

A link is signed for one viewer and one path and lives at most two hours. Its expiry
is rounded up to the hour, so every page drawn in the same hour uses the same link and
the browser's cache keeps working. A route serves what its link's viewer may see, no
more (with private galleries, one's own), and only the pictures the link was made for:
an image's path names its content hash, a zip's the hash of its images' hashes, so a
link to an image deleted since can never serve another.

Every answer says `nosniff` and carries a policy that runs nothing: an original is
served byte for byte as FoxAPI made it, and a browser must never read one as a page.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from studio import links
from studio.links import API_PREFIX
from studio.people import viewer_person

if TYPE_CHECKING:
    from studio.service import Studio

_IMAGE_KINDS = ("thumb", "original", "download")
_INPUT_KINDS = ("thumb", "original")
_IDS = re.compile(r"[0-9]{1,12}(,[0-9]{1,12}){0,499}")
_JOB_IDS = re.compile(r"[0-9a-f]{32}(,[0-9a-f]{32}){0,99}")
_IMMUTABLE = "private, max-age=31536000, immutable"
# On every answer of these routes: the declared type is the type, and nothing runs.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
GONE = "This image is no longer in the gallery, or it is not yours to see."
ZIP_GONE = (
    "An image of this download was deleted or is not yours to see. "
    "Reload the gallery and choose again."
)


def _names(name: str, sha256: str | None) -> bool:
    """Whether a link's file name is the content `sha256`, whatever its extension."""
    return sha256 is not None and name.partition(".")[0] == sha256


def _secured(endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    @functools.wraps(endpoint)
    def answer(request: Request) -> Response:
        response = endpoint(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return answer


def routes(service: Callable[[], Studio]) -> list[Route]:
    """The routes, each reaching the studio through `service` when a request arrives."""

    def refused() -> Response:
        return PlainTextResponse(
            "This link has expired or is not valid. Reload the page for a fresh one.",
            status_code=403,
        )

    def image(request: Request) -> Response:
        studio = service()
        viewer = studio.signer.viewer(request)
        if viewer is None:
            return refused()
        kind, name = request.path_params["kind"], request.path_params["name"]
        if kind not in _IMAGE_KINDS:
            return PlainTextResponse(GONE, status_code=404)
        image_id = request.path_params["image_id"]
        reviewing = links.viewer_link_id(viewer) is not None
        if reviewing:
            # A reviewer's link: checked on every request against the review link, so a
            # revoke ends it at once, and only its board's images (downloads if allowed).
            item = studio.boards.review_item(viewer, image_id, kind)
            if item is None or not _names(name, item.image.sha256):
                return PlainTextResponse(
                    "This review link was revoked, has expired, or does not show this image.",
                    status_code=404,
                )
        else:
            person = viewer_person(viewer)
            gallery = None if person is None else studio.for_person(person).gallery
            item = None if gallery is None else gallery.image(image_id)
            if item is None and gallery is not None and kind == "thumb":
                # The Trash view shows what may be restored: its thumbnail, nothing more.
                item = gallery.trash.image(image_id)
        if item is None or not _names(name, item.image.sha256):
            return PlainTextResponse(GONE, status_code=404)
        if kind == "download":
            copy = studio.gallery.download(item, reviewer=reviewing)
            disposition = f"attachment; filename*=UTF-8''{quote(copy.filename)}"
            return Response(
                copy.data,
                media_type=copy.mime_type,
                headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
            )
        data = (
            studio.gallery.thumbnail(item.image)
            if kind == "thumb"
            else studio.gallery.original(item.image)
        )
        if data is None:
            return PlainTextResponse("The thumbnail is missing.", status_code=404)
        media_type = "image/webp" if kind == "thumb" else studio.gallery.mime_type(item.image)
        # A reviewer's browser asks again each time, so a revoke is heard.
        cache = "private, no-cache" if reviewing else _IMMUTABLE
        return Response(data, media_type=media_type, headers={"Cache-Control": cache})

    def input_asset(request: Request) -> Response:
        studio = service()
        viewer = studio.signer.viewer(request)
        person = None if viewer is None else viewer_person(viewer)
        if person is None:
            return refused()
        kind = request.path_params["kind"]
        asset = studio.for_person(person).gallery.input_asset(request.path_params["asset_id"])
        if (
            kind not in _INPUT_KINDS
            or asset is None
            or not _names(request.path_params["name"], asset.sha256)
        ):
            return PlainTextResponse("This input image is no longer kept.", status_code=404)
        data = (
            studio.gallery.input_thumbnail(asset)
            if kind == "thumb"
            else studio.gallery.input_original(asset)
        )
        if data is None:
            return PlainTextResponse("The thumbnail is missing.", status_code=404)
        media_type = "image/webp" if kind == "thumb" else studio.gallery.mime_type(asset)
        return Response(data, media_type=media_type, headers={"Cache-Control": _IMMUTABLE})

    def zip_download(request: Request) -> Response:
        studio = service()
        viewer = studio.signer.viewer(request)
        person = None if viewer is None else viewer_person(viewer)
        ids_text = request.path_params["ids"]
        if person is None or not _IDS.fullmatch(ids_text):
            return refused()
        ids = [int(part) for part in ids_text.split(",")]
        # Every image is looked up before the first byte goes: a missing one is a
        # sentence, never a zip cut short.
        chunks = studio.for_person(person).gallery.stream_zip(ids, request.path_params["digest"])
        if chunks is None:
            return PlainTextResponse(ZIP_GONE, status_code=404)
        disposition = f"attachment; filename={studio.gallery.zip_filename(len(ids))}"
        return StreamingResponse(
            chunks,
            media_type="application/zip",
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    def progress(request: Request) -> Response:
        studio = service()
        viewer = studio.signer.viewer(request)
        person = None if viewer is None else viewer_person(viewer)
        ids_text = request.path_params["ids"]
        if person is None or (ids_text != "all" and not _JOB_IDS.fullmatch(ids_text)):
            return refused()
        only = None if ids_text == "all" else ids_text.split(",")
        states = [asdict(state) for state in studio.for_person(person).jobs.progress(only)]
        return JSONResponse(states, headers={"Cache-Control": "no-store"})

    return [
        Route(f"{API_PREFIX}/images/{{image_id:int}}/{{kind}}/{{name}}", _secured(image)),
        Route(f"{API_PREFIX}/inputs/{{asset_id:int}}/{{kind}}/{{name}}", _secured(input_asset)),
        Route(f"{API_PREFIX}/zip/{{ids}}/{{digest}}", _secured(zip_download)),
        Route(f"{API_PREFIX}/progress/{{ids}}", _secured(progress)),
    ]
