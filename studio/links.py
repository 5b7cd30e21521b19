"""Links to what the server serves (web.py's routes): their paths, and their signatures.

A link is signed for one viewer and one path and lives at most two hours. Its expiry is
rounded up to the hour, so every page drawn in the same hour uses the same link and the
browser's cache keeps working. Reviewers' links are signed for a viewer named after
their review link (`review_viewer`), which the routes read back with `viewer_link_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

API_PREFIX = "/api"
LINK_WINDOW = 3600  # seconds; a link is valid until the end of the next window
_SIGNATURE_CHARS = 32
REVIEW_VIEWER_PREFIX = "review:"  # links signed for a review link's reviewers
_LINK_ID = re.compile(r"[0-9]{1,12}")


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


def input_path(kind: str, asset_id: int, sha256: str, extension: str) -> str:
    """An input asset (an upload an edit was made from): not a gallery image."""
    return f"{API_PREFIX}/inputs/{asset_id}/{kind}/{sha256}.{extension}"


def zip_path(image_ids: list[int], digest: str) -> str:
    """A zip of `image_ids`, whose hashes `digest` sums up (see zip_digest)."""
    return f"{API_PREFIX}/zip/{','.join(map(str, image_ids))}/{digest}"


def zip_digest(sha256s: Iterable[str | None]) -> str:
    """What a zip link names: its images' content, in order, in 32 characters."""
    joined = "\n".join(sha256 or "none" for sha256 in sha256s)
    return hashlib.sha256(joined.encode()).hexdigest()[:_SIGNATURE_CHARS]


def progress_path(job_ids: list[str] | None) -> str:
    return f"{API_PREFIX}/progress/{','.join(job_ids) if job_ids else 'all'}"


def review_url_path(token: str) -> str:
    """Where a review link leads, relative to the studio's address."""
    return "/review?" + urlencode({"token": token})


def review_viewer(link_id: int) -> str:
    return f"{REVIEW_VIEWER_PREFIX}{link_id}"


def viewer_link_id(viewer: str) -> int | None:
    """The review link a signed image link was made for; None for any other viewer."""
    rest = viewer.removeprefix(REVIEW_VIEWER_PREFIX)
    return int(rest) if rest != viewer and _LINK_ID.fullmatch(rest) else None
