"""What the server answers over plain HTTP beside Streamlit: images, downloads, progress.

Pages put signed links to these routes in the page instead of the bytes themselves, so
an image travels once per browser (its link is content-addressed and cached for a year)
and a zip streams from the archive instead of being built whole in memory.

A link is signed for one viewer and one path and lives at most two hours. Its expiry
is rounded up to the hour, so every page drawn in the same hour uses the same link and
the browser's cache keeps working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from studio.jobs import JobService

API_PREFIX = "/api"
LINK_WINDOW = 3600  # seconds; a link is valid until the end of the next window
_SIGNATURE_CHARS = 32
_IMAGE_KINDS = ("thumb", "original", "download")
_IDS = re.compile(r"[0-9]{1,12}(,[0-9]{1,12}){0,499}")
_JOB_IDS = re.compile(r"[0-9a-f]{32}(,[0-9a-f]{32}){0,99}")
_IMMUTABLE = "private, max-age=31536000, immutable"
REVIEW_VIEWER_PREFIX = "review:"  # links signed for a review link's reviewers


@dataclass(frozen=True)
class UrlSigner:
    secret: bytes
    clock: Callable[[], float] = time.time

    def sign(self, path: str, viewer: str) -> str:
        """`path` with the query that proves `viewer` was given it, for up to two hours."""
        expires = (int(self.clock()) // LINK_WINDOW + 2) * LINK_WINDOW
        query = {"viewer": viewer, "expires": str(expires)}
        query["sig"] = self._signature(path, viewer, expires)
        return f"{path}?{urlencode(query)}"

    def viewer(self, request: Request) -> str | None:
        """The viewer a request's link was signed for, or None if it is forged or old."""
        params = request.query_params
        viewer, expires_text = params.get("viewer", ""), params.get("expires", "")
        if not viewer or not expires_text.isdigit() or int(expires_text) < self.clock():
            return None
        expected = self._signature(request.url.path, viewer, int(expires_text))
        if not hmac.compare_digest(expected, params.get("sig", "")):
            return None
        return viewer

    def _signature(self, path: str, viewer: str, expires: int) -> str:
        message = f"{path}\n{viewer}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def image_path(kind: str, image_id: int, sha256: str, extension: str) -> str:
    return f"{API_PREFIX}/images/{image_id}/{kind}/{sha256}.{extension}"


def zip_path(image_ids: list[int]) -> str:
    return f"{API_PREFIX}/zip/{','.join(map(str, image_ids))}"


def progress_path(job_ids: list[str] | None) -> str:
    return f"{API_PREFIX}/progress/{','.join(job_ids) if job_ids else 'all'}"


def _studio_viewer(viewer: str | None) -> bool:
    """Whether a link was signed for someone in the studio (a reviewer's never is here)."""
    return viewer is not None and not viewer.startswith(REVIEW_VIEWER_PREFIX)


def routes(service: Callable[[], JobService]) -> list[Route]:
    """The routes, each reaching the studio through `service` when a request arrives."""

    def refused() -> Response:
        return PlainTextResponse(
            "This link has expired or is not valid. Reload the page for a fresh one.",
            status_code=403,
        )

    def image(request: Request) -> Response:
        jobs = service()
        viewer = jobs.signer.viewer(request)
        if viewer is None:
            return refused()
        kind = request.path_params["kind"]
        if kind not in _IMAGE_KINDS:
            return PlainTextResponse("This image is no longer in the gallery.", status_code=404)
        image_id = request.path_params["image_id"]
        reviewing = viewer.startswith(REVIEW_VIEWER_PREFIX)
        if reviewing:
            # A reviewer's link: checked on every request against the review link, so a
            # revoke ends it at once, and only its board's images (downloads if allowed).
            item = jobs.review_item(viewer, image_id, kind)
            if item is None:
                return PlainTextResponse(
                    "This review link was revoked, has expired, or does not show this image.",
                    status_code=404,
                )
        else:
            item = jobs.image(image_id)
        if item is None:
            return PlainTextResponse("This image is no longer in the gallery.", status_code=404)
        if kind == "download":
            copy = jobs.download(item, reviewer=reviewing)
            disposition = f"attachment; filename*=UTF-8''{quote(copy.filename)}"
            return Response(
                copy.data,
                media_type=copy.mime_type,
                headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
            )
        data = jobs.thumbnail(item.image) if kind == "thumb" else jobs.original(item.image)
        if data is None:
            return PlainTextResponse("The thumbnail is missing.", status_code=404)
        media_type = "image/webp" if kind == "thumb" else jobs.mime_type(item.image)
        # A reviewer's browser asks again each time, so a revoke is heard.
        cache = "private, no-cache" if reviewing else _IMMUTABLE
        return Response(data, media_type=media_type, headers={"Cache-Control": cache})

    def zip_download(request: Request) -> Response:
        jobs = service()
        ids_text = request.path_params["ids"]
        if not _studio_viewer(jobs.signer.viewer(request)) or not _IDS.fullmatch(ids_text):
            return refused()
        ids = [int(part) for part in ids_text.split(",")]
        disposition = f"attachment; filename={jobs.zip_filename(len(ids))}"
        return StreamingResponse(
            jobs.stream_zip(ids),
            media_type="application/zip",
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    def progress(request: Request) -> Response:
        jobs = service()
        ids_text = request.path_params["ids"]
        if not _studio_viewer(jobs.signer.viewer(request)):
            return refused()
        if ids_text != "all" and not _JOB_IDS.fullmatch(ids_text):
            return refused()
        only = None if ids_text == "all" else ids_text.split(",")
        states = [asdict(state) for state in jobs.progress(only)]
        return JSONResponse(states, headers={"Cache-Control": "no-store"})

    return [
        Route(f"{API_PREFIX}/images/{{image_id:int}}/{{kind}}/{{name}}", image),
        Route(f"{API_PREFIX}/zip/{{ids}}", zip_download),
        Route(f"{API_PREFIX}/progress/{{ids}}", progress),
    ]
