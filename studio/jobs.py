"""The jobs service: the one way pages, components and the command line reach the core.

It validates what a person asks for (once), sends it through the engine, and answers
every question a page asks about jobs and images. The store keeps persistence, the
engine talks to FoxAPI, the archive keeps bytes; callers see none of them.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Literal

from sqlalchemy.exc import NoResultFound

from studio import boards, contact_sheet, export, exposure, formats, imaging, sweeps, web
from studio.archive import Archive
from studio.board_news import BoardNews, mark_seen, news
from studio.boards import Review as Review  # the components' name for it
from studio.boards import review_url_path as review_url_path  # the pages build links with it
from studio.credentials import Backend, Credentials
from studio.engine import Engine
from studio.errors import BoardInputError, FoxAPIError, InvalidImage, StorageError
from studio.errors import ReviewGone as ReviewGone  # re-exported for the review page
from studio.export import DownloadCopy
from studio.health import Health, check_parts
from studio.people import (
    LOCAL,
    Allowance,
    NotAllowed,
    People,
    Person,
    Quota,
    SpendLimitReached,
    refusal,
)
from studio.provenance import ContentSigner, Ingredient, ingredients
from studio.records import (
    Board,
    GalleryFilter,
    GalleryItem,
    ImageRecord,
    InputAsset,
    InputKind,
    InputSource,
    JobOrigin,
    JobRecord,
    ReviewClosed,
    ReviewLink,
    ReviewNote,
    Style,
    Verdicts,
)
from studio.request import MAX_INPUT_IMAGES, GenerationRequest, InvalidRequest, check_image_url
from studio.review_finishes import FinishedReview, finished_reviews
from studio.settings import Settings
from studio.states import IN_FLIGHT, NEEDS_ATTENTION, ImageStatus, JobStatus, status_words
from studio.store import Store
from studio.web import UrlSigner
from studio.webhook import Webhook

log = logging.getLogger(__name__)

PREVIEW_PX = 256  # an upload's preview on the Edit page
STYLE_NAME_CHARS, STYLE_TEXT_CHARS = 80, 500
ATTENTION_WINDOW = 24 * 3600  # failed jobs older than this no longer ask for attention
RETRY_LOOKBACK = 60  # recent jobs searched for retries of a failed one
NO_INPUTS = "Add at least one image to edit: a link, an upload or a gallery image."
GONE_FROM_GALLERY = (
    "A gallery image you chose is no longer in the archive. Remove it and pick another."
)
NOT_YOURS_TO_CHANGE = "Only the person who made this image, or an admin, can delete it."
STILL_RUNNING = "This job is still running; delete it once it has finished."
USAGE_DAYS = 30
BOARD_NAME_CHARS, LINK_LABEL_CHARS = 120, 120
MAX_LINK_DAYS = 365
SHEET_COLUMNS = 3  # a board's contact sheet: at most this many images a row
NO_SUCH_BOARD = "This board is gone, or it is not yours."
NO_BOARD = -1  # no board has this id


@dataclass(frozen=True)
class UsageDay:
    """Images billed to one person on one day, for the Usage page."""

    day: str  # YYYY-MM-DD in the server's time zone
    person: str  # the email, or "(nobody)" for jobs made before sign-in
    images: int


@dataclass(frozen=True)
class EditInput:
    """An image to edit: a link, a cleaned upload, or a gallery image."""

    kind: str  # "url", "upload" or "gallery"
    label: str
    url: str | None = None
    image: imaging.CleanImage | None = field(default=None, repr=False)
    preview: bytes | None = field(default=None, repr=False)
    image_id: int | None = None

    @classmethod
    def from_url(cls, url: str) -> EditInput:
        """A link, checked for its form (raises ValueError with a message for people)."""
        return cls("url", url, url=check_image_url(url.strip()))

    @property
    def identity(self) -> str:
        """Equal for the same picture chosen twice, whatever it is called."""
        if self.kind == "upload" and self.image is not None:
            return "upload:" + hashlib.sha256(self.image.data).hexdigest()
        if self.kind == "gallery":
            return f"gallery:{self.image_id}"
        return f"url:{self.url}"


@dataclass(frozen=True)
class Submission:
    """A checked request, ready to send: its images still to be turned into links."""

    request: GenerationRequest
    inputs: tuple[EditInput, ...] = ()

    def fingerprint(self, credentials: Credentials) -> str:
        """The same for the same request with the same key: how a double click is known."""
        parts = [self.request.to_json(), *(item.identity for item in self.inputs)]
        parts.append(credentials.key_id)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @property
    def parent_image_ids(self) -> tuple[int, ...]:
        """The gallery images this edit is made from: its place in their lineage."""
        return tuple(item.image_id for item in self.inputs if item.image_id is not None)


@dataclass(frozen=True)
class Sweep:
    """Every job of one click: the prompt's variants in each chosen ratio, checked."""

    plan: sweeps.SweepPlan
    submissions: tuple[Submission, ...]

    def fingerprint(self, credentials: Credentials) -> str:
        parts = [submission.fingerprint(credentials) for submission in self.submissions]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class SweepResult:
    """The jobs a sweep sent, and the refusal that stopped it, if one did."""

    jobs: list[JobRecord]
    stopped_by: FoxAPIError | None = None


@dataclass(frozen=True)
class Lineage:
    """What an image was edited from, in the order its edit was given them, and the
    gallery images edited from it.

    `made_from` holds gallery images and kept uploads; `links` the inputs FoxAPI fetched
    from a link, which the studio never kept; `missing` the inputs deleted since, or not
    this person's to see.
    """

    made_from: list[GalleryItem | InputAsset]
    children: list[GalleryItem]
    links: list[str] = field(default_factory=list)
    missing: int = 0

    @property
    def before(self) -> GalleryItem | InputAsset | None:
        """What the image is compared with: the first input still at hand."""
        return self.made_from[0] if self.made_from else None


@dataclass(frozen=True)
class JobProgress:
    """Where a job stands, as the browser draws it between page runs."""

    id: str
    in_flight: bool
    progress: int
    words: str
    note: str | None  # a passing problem: FoxAPI busy, the key refused...
    elapsed: float
    estimated: float | None


class JobService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        archive: Archive,
        engine: Engine,
        server_credentials: Credentials,
        signer: UrlSigner,
        *,
        content_signer: ContentSigner | None = None,
        webhook: Webhook | None = None,
    ) -> None:
        self.settings = settings
        self._webhook = webhook
        self._store = store
        self._archive = archive
        self._engine = engine
        self.server_credentials = server_credentials
        self.signer = signer
        self.content_signer = content_signer
        self.people = People.from_settings(settings)
        self.person: Person = LOCAL
        # Keys typed in the sidebar, by person (shared by every copy from for_person):
        # memory only, each serving its own person in any of their sessions.
        self._typed_keys: dict[str, Credentials] = {}
        self._typed_keys_lock = threading.Lock()

    def acting_as(self, email: str) -> JobService:
        """This service acting as the person with `email`, for the command line.

        Their subject is the one their jobs were recorded with when they signed in; a
        person who never signed in is named by their email until they do.
        """
        if not self.people.admits(email):
            raise NotAllowed(f"{email} is not among the people this studio is open to.")
        sub = self._store.owner_sub_for_email(email) or f"email:{email.strip().lower()}"
        return self.for_person(self.people.person(sub, email.strip(), None))

    def for_person(self, person: Person) -> JobService:
        """This service acting as `person`: what they may see, change and spend."""
        bound = copy.copy(self)
        bound.person = person
        return bound

    # Health ---------------------------------------------------------------------------

    def health(self) -> Health:
        """Whether this server can do its work, for `/healthz`: database and storage answer."""
        return check_parts({"database": self._store.check, "storage": self._archive.check})

    # Keys -----------------------------------------------------------------------------

    @property
    def server_has_key(self) -> bool:
        return self.settings.api_key is not None

    def typed_key(self, api_key: str) -> Credentials:
        """Credentials for a key typed into the browser; kept in server memory only.

        A signed-in person's key is kept for them (see credentials()) and serves only them.
        """
        credentials = Credentials(
            Backend.FOXAPI,
            self.settings.foxapi_base_url,
            api_key.strip(),
            owner_sub=self.person.sub,
        )
        self._engine.add_credentials(credentials)
        if self.person.signed_in:
            with self._typed_keys_lock:
                self._typed_keys[self.person.viewer] = credentials
        return credentials

    def forget_typed_key(self) -> None:
        with self._typed_keys_lock:
            self._typed_keys.pop(self.person.viewer, None)

    def credentials(self) -> Credentials:
        """What this person's jobs are sent with: the server's key, else their typed one,
        else the demo backend."""
        if self.server_has_key:
            return self.server_credentials
        with self._typed_keys_lock:
            return self._typed_keys.get(self.person.viewer, self.server_credentials)

    def has_key_for(self, job: JobRecord) -> bool:
        """Whether the key `job` was sent with is at hand (a typed key is lost on restart)."""
        return self._engine.has_credentials(job.key_id)

    # Sending --------------------------------------------------------------------------

    def generation(
        self, *, prompt: str, num_outputs: int, aspect_ratio: str | None, output_format: str | None
    ) -> Submission:
        """Check a text-to-image request; InvalidRequest names the first bad field."""
        return Submission(
            GenerationRequest.build(
                max_prompt_chars=self.settings.studio_max_prompt_chars,
                prompt=prompt,
                num_outputs=num_outputs,
                aspect_ratio=aspect_ratio,
                output_format=output_format,
            )
        )

    def edit(
        self,
        *,
        prompt: str,
        num_outputs: int,
        output_format: str | None,
        inputs: Sequence[EditInput],
    ) -> Submission:
        """Check an edit once, before anything is uploaded or billed."""
        if not inputs:
            raise InvalidRequest("image_urls", NO_INPUTS)
        if len(inputs) > MAX_INPUT_IMAGES:
            raise InvalidRequest(
                "image_urls",
                f"An edit takes at most {MAX_INPUT_IMAGES} input images; you gave {len(inputs)}.",
            )
        request = GenerationRequest.build(
            max_prompt_chars=self.settings.studio_max_prompt_chars,
            prompt=prompt,
            num_outputs=num_outputs,
            output_format=output_format,
        )
        return Submission(request, tuple(inputs))

    def send(
        self,
        submission: Submission,
        credentials: Credentials,
        *,
        sent_links: MutableMapping[str, str] | None = None,
        batch_id: str | None = None,
    ) -> JobRecord:
        """Turn the inputs into links FoxAPI can fetch, then send the one POST.

        `sent_links` remembers the link each upload or gallery image got per key, so an
        edit sent again does not upload the same picture again. Raises FoxAPIError when
        FoxAPI refused (nothing billed), OutcomeUnknown when the POST may have arrived.
        """
        self._check_key_is_theirs(credentials)
        request = submission.request
        quota = self._quota(credentials)
        if quota is not None and submission.inputs:
            # Refused before anything is uploaded, when it plainly cannot fit.
            self._check_allowance(request.num_outputs)
        sources: tuple[InputSource, ...] = ()
        if submission.inputs:
            links = sent_links if sent_links is not None else {}
            urls = tuple(self._link(item, credentials, links) for item in submission.inputs)
            request = request.with_image_urls(urls)
            sources = tuple(map(self._source, submission.inputs))
        origin = JobOrigin(batch_id, submission.parent_image_ids, sources)
        try:
            return self._engine.submit(
                request, credentials, origin=origin, owner=self.person, quota=quota
            )
        except BaseException:
            # Refused before anything was billed, the job is gone: so are uploads it alone
            # used. (A job whose outcome is unknown stays, and keeps its uploads.)
            self._remove_files(self._store.forget_unused_input_assets(origin.input_asset_ids))
            raise

    def _source(self, item: EditInput) -> InputSource:
        """Where an input came from for the lineage; an upload is kept as an input asset."""
        if item.kind == "gallery":
            return InputSource(InputKind.GALLERY, item.image_id)
        if item.image is None:
            return InputSource(InputKind.LINK)
        try:
            asset = self._store.add_input_asset(self._archive.save_input(item.image.data))
        except StorageError as exc:
            # The edit goes out all the same: only its lineage lacks this picture.
            log.warning("An upload was not kept for the lineage: %s", exc)
            return InputSource(InputKind.LINK)
        return InputSource(InputKind.UPLOAD, asset.id)

    def sweep(
        self,
        *,
        prompt: str,
        aspect_ratios: Sequence[str | None],
        num_outputs: int,
        output_format: str | None,
    ) -> Sweep:
        """Check every job of a sweep before any is sent; InvalidRequest names the field."""
        plan = sweeps.plan(prompt, list(aspect_ratios), num_outputs)
        submissions = tuple(
            self.generation(
                prompt=cell.prompt,
                num_outputs=num_outputs,
                aspect_ratio=cell.aspect_ratio,
                output_format=output_format,
            )
            for cell in plan.cells
        )
        return Sweep(plan, submissions)

    def send_sweep(self, sweep: Sweep, credentials: Credentials) -> SweepResult:
        """Send each job of the sweep, in order, as one batch.

        A refusal stops the sweep (the rest would be refused too): the jobs sent so far
        stand, and the refusal is returned with them. An uncertain POST stops it too.
        """
        batch_id = uuid.uuid4().hex if sweep.plan.is_sweep else None
        sent: list[JobRecord] = []
        for submission in sweep.submissions:
            try:
                sent.append(self.send(submission, credentials, batch_id=batch_id))
            except FoxAPIError as refusal:
                return SweepResult(sent, refusal)
        return SweepResult(sent)

    # Styles ---------------------------------------------------------------------------

    def styles(self) -> list[Style]:
        """This person's styles and everyone's shared ones."""
        return self._store.styles_for(self.person.sub)

    def add_style(self, *, name: str, text: str, shared: bool) -> int:
        """Save a named snippet; InvalidRequest says what is wrong with it."""
        name, text = " ".join(name.split()), " ".join(text.split())
        if not name or len(name) > STYLE_NAME_CHARS:
            raise InvalidRequest(
                "style_name", f"Give the style a name of 1 to {STYLE_NAME_CHARS} characters."
            )
        if not text or len(text) > STYLE_TEXT_CHARS:
            raise InvalidRequest(
                "style_text", f"Write the style's words: 1 to {STYLE_TEXT_CHARS} characters."
            )
        return self._store.add_style(self.person.sub, name, text, shared=shared)

    def remove_style(self, style_id: int) -> bool:
        """Delete one of this person's styles (never someone else's shared one)."""
        return self._store.delete_style(style_id, self.person.sub)

    def with_styles(self, prompt: str, style_ids: Iterable[int]) -> str:
        """`prompt` with the chosen styles' words after it, in the order they are listed."""
        chosen = set(style_ids)
        extra = [style.text for style in self.styles() if style.id in chosen]
        return ", ".join([prompt.strip(), *extra]) if extra and prompt.strip() else prompt

    def batch(self, batch_id: str) -> list[JobRecord]:
        """A sweep's jobs that this person may see, in the order they were made."""
        return [job for job in self._store.batch_jobs(batch_id) if self._may_see(job)]

    def contact_sheet(self, batch_id: str, kind: str = "png") -> bytes:
        """A sweep's images on one captioned sheet, row by row, PNG or PDF."""
        jobs = self.batch(batch_id)
        ratios = len({job.request.aspect_ratio for job in jobs}) or 1
        items = []
        for job in jobs:
            saved = self.saved_images(job.id)
            ratio = job.request.aspect_ratio or "1:1"
            items.append(
                contact_sheet.SheetItem(
                    self.thumbnail(saved[0]) if saved else None,
                    job.prompt,
                    f"{ratio} · {formats.label(job.request.output_format)}",
                )
            )
        title = f"Sweep of {len(jobs)} jobs" if jobs else "An empty sweep"
        columns, paper = min(ratios, 4), self.settings.studio_paper
        return contact_sheet.build(title, items, columns=columns, kind=kind, paper=paper)

    # Boards ---------------------------------------------------------------------------

    def boards(self, *, archived: bool = False) -> list[Board]:
        """This person's boards, the most recently changed first."""
        return self._store.boards(self.person.sub, archived=archived)

    def board(self, board_id: int) -> Board | None:
        """The board, or None when it is gone or not this person's (an admin sees all)."""
        found = self._store.board(board_id)
        if found is None:
            return None
        return found if self.person.admin or found.owner_sub == self.person.sub else None

    def _own_board(self, board_id: int) -> Board:
        found = self.board(board_id)
        if found is None:
            raise BoardInputError(NO_SUCH_BOARD)
        return found

    def create_board(self, name: str, image_ids: Sequence[int] = ()) -> Board:
        """A new board of this person's, holding `image_ids` (those they may see) in order."""
        board_id = self._store.create_board(self.person.sub, self.person.email, _board_name(name))
        if image_ids:
            self.add_to_board(board_id, image_ids)
        return self._own_board(board_id)

    def rename_board(self, board_id: int, name: str) -> Board:
        self._own_board(board_id)
        self._store.update_board(board_id, name=_board_name(name))
        return self._own_board(board_id)

    def archive_board(self, board_id: int, archived: bool = True) -> None:
        self._own_board(board_id)
        self._store.update_board(board_id, archived=archived)

    def add_to_board(self, board_id: int, image_ids: Sequence[int]) -> int:
        """Append the images not yet on the board, in order; return how many were new."""
        self._own_board(board_id)
        visible = [item.image.id for item in self.images(image_ids)]
        return self._store.add_board_images(board_id, visible)

    def remove_from_board(self, board_id: int, image_id: int) -> None:
        self._own_board(board_id)
        self._store.remove_board_image(board_id, image_id)

    def move_in_board(self, board_id: int, image_id: int, offset: int) -> None:
        """Move an image `offset` places (-1 up, +1 down), stopping at either end."""
        self._own_board(board_id)
        order = self._store.board_image_ids(board_id)
        if image_id not in order:
            return
        old = order.index(image_id)
        order.insert(max(0, min(len(order) - 1, old + offset)), order.pop(old))
        self._store.reorder_board(board_id, order)

    def reorder_board(self, board_id: int, image_ids: Sequence[int]) -> None:
        """Put the board in the order `image_ids` gives (as a drag leaves it)."""
        self._own_board(board_id)
        self._store.reorder_board(board_id, image_ids)

    def board_images(
        self, board_id: int, *, sort: Literal["order", "approvals"] = "order"
    ) -> list[GalleryItem]:
        """The board's images this person may see: in its order, or most approved first."""
        if self.board(board_id) is None:
            return []
        found = self._store.board_items(board_id, viewer_sub=self.person.sub)
        items = [item for item in found if self._may_see(item.job)]
        if sort == "approvals":
            verdicts = self.verdicts([item.image.id for item in items])
            place = {item.image.id: index for index, item in enumerate(items)}
            items.sort(
                key=lambda item: (
                    -verdicts[item.image.id].approvals,
                    verdicts[item.image.id].changes,
                    place[item.image.id],
                )
            )
        return items

    def boards_of_image(self, image_id: int) -> list[Board]:
        """This person's boards that hold the image."""
        return self._store.boards_of_image(image_id, self.person.sub)

    def board_contact_sheet(self, board_id: int, kind: Literal["png", "pdf"] = "png") -> bytes:
        """The board on one captioned sheet: its name, then its images numbered in order,
        each with its prompt, ratio and, once reviewed, its votes."""
        board = self._own_board(board_id)
        return self._sheet(board.name, self.board_images(board_id), kind)

    def selection_contact_sheet(
        self, image_ids: Sequence[int], kind: Literal["png", "pdf"] = "png"
    ) -> bytes:
        """The gallery images chosen, on one captioned sheet like a board's."""
        items = self.images(image_ids)
        title = "1 image" if len(items) == 1 else f"{len(items)} images"
        return self._sheet(f"{title} from the gallery", items, kind)

    def _sheet(self, title: str, items: list[GalleryItem], kind: Literal["png", "pdf"]) -> bytes:
        verdicts = self.verdicts([item.image.id for item in items])
        sheet_items = [
            contact_sheet.item_of(
                item,
                verdicts[item.image.id],
                self.thumbnail(item.image),
                self._print_picture(item.image) if kind == "pdf" else None,
            )
            for item in items
        ]
        columns = min(max(len(items), 1), SHEET_COLUMNS)
        paper = self.settings.studio_paper
        return contact_sheet.build(title, sheet_items, columns=columns, kind=kind, paper=paper)

    def _print_picture(self, image: ImageRecord) -> bytes | None:
        """The original, for a PDF to print; None when it is missing (the thumbnail serves)."""
        try:
            return self.original(image)
        except OSError:
            return None

    def board_zip_link(self, board_id: int, viewer: str) -> str:
        """A signed link to the board's images as a zip, with manifest.json."""
        self._own_board(board_id)
        return self._zip_link(self.board_images(board_id), viewer)

    # Review links (the owner's side) --------------------------------------------------

    def share_board(
        self,
        board_id: int,
        *,
        label: str = "",
        expires_in_days: int | EllipsisType | None = ...,
        allow_downloads: bool = False,
    ) -> tuple[ReviewLink, str]:
        """A new review link to the board: the link, and its token (shown once, never kept).

        It lives `expires_in_days` days (None: until revoked; left out: review_link_days).
        """
        self._own_board(board_id)
        if isinstance(expires_in_days, EllipsisType):
            expires_in_days = self.review_link_days
        label = " ".join(label.split())
        if len(label) > LINK_LABEL_CHARS:
            raise BoardInputError(
                f"Keep the link's name to {LINK_LABEL_CHARS} characters; it has {len(label)}."
            )
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LINK_DAYS:
            raise BoardInputError(f"A link can last 1 to {MAX_LINK_DAYS} days, or never expire.")
        lifetime = None if expires_in_days is None else timedelta(days=expires_in_days)
        expires_at = None if lifetime is None else time.time() + lifetime.total_seconds()
        token, digest = boards.new_token()
        link_id = self._store.create_review_link(
            board_id, digest, label=label, expires_at=expires_at, allow_downloads=allow_downloads
        )
        link = self._store.review_link(link_id)
        assert link is not None  # just made
        return link, token

    @property
    def review_link_days(self) -> int:
        """How long a new review link lives unless its owner says otherwise."""
        return self.settings.studio_review_link_days

    @property
    def public_url(self) -> str | None:
        """STUDIO_PUBLIC_URL: the address people outside reach the studio at, if set."""
        return self.settings.studio_public_url

    def review_links(self, board_id: int) -> list[ReviewLink]:
        if self.board(board_id) is None:
            return []
        return self._store.review_links(board_id)

    def revoke_link(self, link_id: int) -> None:
        """End a review link now: its next page load and its image links say so."""
        link = self._store.review_link(link_id)
        if link is None or self.board(link.board_id) is None:
            raise BoardInputError(NO_SUCH_BOARD)
        self._store.revoke_review_link(link_id)

    def verdicts(self, image_ids: Sequence[int]) -> dict[int, Verdicts]:
        """Each image's votes and comments across this person's review links."""
        notes: dict[int, list[ReviewNote]] = {image_id: [] for image_id in image_ids}
        for note in self._store.notes_on(list(notes), self.person.sub):
            notes[note.image_id].append(note)
        return {
            image_id: Verdicts(
                approvals=sum(note.vote == "approve" for note in found),
                changes=sum(note.vote == "changes" for note in found),
                notes=tuple(found),
            )
            for image_id, found in notes.items()
        }

    def review_activity_marker(self, board_id: int) -> str:
        """Changes whenever a vote or comment on the board does: cheap, for live refresh."""
        if self.board(board_id) is None:
            return ""
        finished = [done.finished_at for done in finished_reviews(self._store, board_id)]
        return f"{self._store.review_activity(board_id)}|{max(finished, default=0)}"

    def board_news(self) -> BoardNews:
        """What reviewers said on this person's boards since they last opened each."""
        return news(self._store, self.person.sub, time.time())

    def mark_board_seen(self, board_id: int) -> None:
        """Its owner is looking at the board: what reviewers said so far is no longer news."""
        found = self.board(board_id)
        if found is not None and found.owner_sub == self.person.sub:
            mark_seen(self._store, board_id, time.time())

    def finished_reviews(self, board_id: int) -> list[FinishedReview]:
        """Who sent their review of the board (none when it is not this person's)."""
        if self.board(board_id) is None:
            return []
        return finished_reviews(self._store, board_id)

    # The review side ------------------------------------------------------------------

    def open_review(self, token: str) -> Review | ReviewClosed:
        """The board behind a review token, for anyone holding it, signed in or not."""
        return Review.open(
            token,
            store=self._store,
            archive=self._archive,
            signer=self.signer,
            changes_per_minute=self.settings.studio_review_changes_per_minute,
            on_finished=self._webhook.review_finished if self._webhook else None,
        )

    def review_item(self, viewer: str, image_id: int, kind: str) -> GalleryItem | None:
        """The image a link signed for review viewer `viewer` asks for, if that link is
        live, its board holds the image, and (for a download) the owner allowed downloads."""
        link_id = boards.viewer_link_id(viewer)
        if link_id is None:
            return None
        shown, downloads = self._store.review_link_shows(link_id, image_id, time.time())
        if not shown or (kind == "download" and not downloads):
            return None
        return self._store.image(image_id)

    def lineage(self, image_id: int) -> Lineage:
        """What the image was made from and edited into, as far as this person may see.

        Its inputs are seen by whoever sees the image; gallery images edited from it, and
        its gallery parents, only when they may see those too.
        """
        item = self.image(image_id)
        if item is None:
            return Lineage([], [])
        children = [
            child for job in self._store.children(image_id) for child in self._gallery_of(job)
        ]
        origin, urls = item.job.origin, item.job.request.image_urls
        if not origin.inputs:  # made before inputs were recorded: its gallery parents alone
            parents = self.images(origin.parent_image_ids)
            return Lineage(
                list(parents),
                children,
                links=[] if parents else list(urls),
                missing=len(origin.parent_image_ids) - len(parents),
            )
        assets = self._store.input_assets(origin.input_asset_ids)
        made_from: list[GalleryItem | InputAsset] = []
        links: list[str] = []
        for position, source in enumerate(origin.inputs):
            if source.kind is InputKind.LINK:
                links += urls[position : position + 1]
                continue
            found: GalleryItem | InputAsset | None
            if source.kind is InputKind.GALLERY:
                found = self.image(source.id) if source.id is not None else None
            else:
                found = assets.get(source.id) if source.id is not None else None
            if found is not None:
                made_from.append(found)
        missing = len(origin.inputs) - len(made_from) - len(links)
        return Lineage(made_from, children, links=links, missing=missing)

    def _gallery_of(self, job: JobRecord) -> list[GalleryItem]:
        return self.images(image.id for image in self.saved_images(job.id))

    def retry(self, job_id: str, credentials: Credentials) -> JobRecord:
        """Send a failed or uncertain job's request again, as a new (billed) job of theirs."""
        if self.job(job_id) is None:
            raise NotAllowed("This job is not yours to see.")
        self._check_key_is_theirs(credentials)
        return self._engine.retry(
            job_id, credentials, owner=self.person, quota=self._quota(credentials)
        )

    def _check_key_is_theirs(self, credentials: Credentials) -> None:
        if credentials.owner_sub is not None and credentials.owner_sub != self.person.sub:
            raise NotAllowed("That key belongs to someone else.")

    def _quota(self, credentials: Credentials) -> Quota | None:
        """The limits a job sent with `credentials` must fit in; demo jobs cost nothing."""
        if credentials.backend is Backend.DEMO:
            return None
        quota = Quota.now(self.settings)
        return quota if quota.daily_limit or quota.monthly_limit else None

    def _check_allowance(self, asked: int) -> None:
        allowance = self.allowance()
        left = allowance.left
        if left is not None and asked > left:
            if allowance.left_today is not None and asked > allowance.left_today:
                message = refusal(
                    left=allowance.left_today,
                    limit=allowance.daily_limit,
                    asked=asked,
                    period="day",
                )
            else:
                message = refusal(
                    left=left, limit=allowance.monthly_limit, asked=asked, period="month"
                )
            raise SpendLimitReached(message)

    def allowance(self) -> Allowance:
        """What this person may still spend today, and the studio this month."""
        quota = Quota.now(self.settings)
        left_today = left_month = None
        if quota.daily_limit:
            spent = self._store.images_spent_by(self.person.sub, quota.day_start)
            left_today = max(0, quota.daily_limit - spent)
        if quota.monthly_limit:
            spent = self._store.images_spent_since(quota.month_start)
            left_month = max(0, quota.monthly_limit - spent)
        return Allowance(left_today, quota.daily_limit, left_month, quota.monthly_limit)

    def _link(
        self, item: EditInput, credentials: Credentials, sent_links: MutableMapping[str, str]
    ) -> str:
        if item.kind == "url" and item.url:
            return item.url
        cache_key = f"{item.identity}|{credentials.key_id}"
        if cache_key not in sent_links:
            if item.image is not None:
                sent_links[cache_key] = self._engine.upload(item.image, credentials)
            else:
                gallery_item = self.image(item.image_id) if item.image_id is not None else None
                if gallery_item is None:
                    raise InvalidImage(GONE_FROM_GALLERY)
                sent_links[cache_key] = self._engine.input_url(gallery_item, credentials)
        return sent_links[cache_key]

    # Inputs ---------------------------------------------------------------------------

    def upload_input(self, data: bytes, filename: str) -> EditInput:
        """An upload checked, turned upright and stripped of metadata; InvalidImage if not."""
        image = imaging.clean_upload(
            data,
            filename,
            max_bytes=self.settings.studio_max_upload_bytes,
            max_pixels=self.settings.studio_max_upload_pixels,
        )
        preview = imaging.make_thumbnail(image.data, PREVIEW_PX)
        return EditInput("upload", image.filename, image=image, preview=preview)

    def file_input(self, path: Path) -> EditInput:
        """A file on this machine as an input: its size checked before any of it is read."""
        max_bytes = self.settings.studio_max_upload_bytes
        imaging.check_upload_size(path.stat().st_size, path.name, max_bytes)
        with path.open("rb") as file:
            # No more than the limit is read, should the file grow meanwhile.
            return self.upload_input(file.read(max_bytes + 1), path.name)

    def exposure_warning(self, server_address: str | None) -> str | None:
        """The sidebar's warning when anyone who can reach the server can spend its key."""
        return exposure.exposure_warning(self.settings, server_address)

    def gallery_input(self, image_id: int) -> EditInput | None:
        item = self.image(image_id)
        if item is None:
            return None
        return EditInput("gallery", item.job.prompt, image_id=item.image.id)

    # Jobs -----------------------------------------------------------------------------

    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None when it is gone or not this person's to see."""
        try:
            job = self._store.job(job_id)
        except NoResultFound:
            return None
        return job if self._may_see(job) else None

    def _may_see(self, job: JobRecord) -> bool:
        """Everyone's work is visible, unless galleries are private: then one's own."""
        if self.person.admin or job.owner_sub == self.person.sub:
            return True
        return not self.people.private_galleries

    def may_change(self, job: JobRecord) -> bool:
        """Only the owner or an admin deletes; jobs of nobody are the admins' alone."""
        return self.person.admin or (job.owner_sub is not None and job.owner_sub == self.person.sub)

    @property
    def _own_only(self) -> bool:
        """Whether lists of jobs (in flight, needing attention) show this person's alone.

        The local person of a studio without sign-in sees every job, as always.
        """
        return self.person.signed_in

    def jobs(self, job_ids: Iterable[str]) -> list[JobRecord]:
        """The jobs still on record among `job_ids`, in that order."""
        return [job for job in map(self.job, job_ids) if job is not None]

    def recent_jobs(self, limit: int) -> list[JobRecord]:
        return self._jobs(limit=limit)

    def _jobs(
        self, statuses: Iterable[JobStatus] | None = None, *, limit: int | None = None
    ) -> list[JobRecord]:
        return self._store.jobs(
            statuses, limit=limit, only_owner=self._own_only, owner_sub=self.person.sub
        )

    def in_flight(self, only: Iterable[str] | None = None) -> list[JobRecord]:
        """Unfinished jobs, newest first: all of this person's, or those among `only`."""
        jobs = self._jobs(IN_FLIGHT)
        if only is None:
            return jobs
        wanted = set(only)
        return [job for job in jobs if job.id in wanted]

    def count_in_flight(self) -> int:
        return len(self._jobs(IN_FLIGHT))

    def needing_attention(self, *, hidden: Iterable[str] = (), limit: int) -> list[JobRecord]:
        """Recent failed, lost or uncertain jobs that nobody has retried or hidden yet."""
        # Both reads are bounded, so this costs the same with 50 jobs or 50,000.
        candidates = self._jobs(NEEDS_ATTENTION, limit=limit * 2)
        recent = self._jobs(limit=RETRY_LOOKBACK)
        skip = {job.retry_of for job in recent if job.retry_of} | set(hidden)
        now = time.time()
        fresh = [
            job
            for job in candidates
            if job.id not in skip and now - (job.finished_at or job.updated_at) < ATTENTION_WINDOW
        ]
        return fresh[:limit]

    def saved_images(self, job_id: str) -> list[ImageRecord]:
        """The job's archived images, if this person may see it."""
        if self.job(job_id) is None:
            return []
        return [
            image
            for image in self._store.job_images(job_id, viewer_sub=self.person.sub)
            if image.status is ImageStatus.ARCHIVED
        ]

    def recent_prompts(self, *, limit: int = 50, search: str = "") -> list[str]:
        """The prompts this person sent before, most recent first, for the prompt box."""
        limit_chars = self.settings.studio_max_prompt_chars
        return self._store.recent_prompts(
            limit=limit,
            search=search[:limit_chars],
            only_owner=self._own_only,
            owner_sub=self.person.sub,
        )

    def images_billed_today(self) -> int:
        """This person's images billed since midnight (everyone's without sign-in)."""
        midnight = Quota.now(self.settings).day_start
        if not self._own_only:
            return self._store.images_billed_since(midnight)
        return self._store.images_spent_by(self.person.sub, midnight)

    def usage(self, *, days: int = USAGE_DAYS) -> list[UsageDay]:
        """Images billed per person per day over the last `days` days; admins only."""
        if not self.person.admin:
            raise NotAllowed("Only admins can see the studio's usage.")
        today = datetime.fromtimestamp(Quota.now(self.settings).day_start).astimezone()
        since = (today - timedelta(days=days - 1)).timestamp()
        totals: dict[tuple[str, str], int] = {}
        for created_at, email, count in self._store.billed_jobs_since(since):
            day = datetime.fromtimestamp(created_at).astimezone().date().isoformat()
            key = (day, email or "(nobody)")
            totals[key] = totals.get(key, 0) + count
        return [UsageDay(day, person, images) for (day, person), images in totals.items()]

    def images_billed_this_month(self) -> int:
        """The whole studio's images billed since the first of the month."""
        return self._store.images_billed_since(Quota.now(self.settings).month_start)

    # Images ---------------------------------------------------------------------------

    @property
    def sees_everyone(self) -> bool:
        """Whether the gallery offers Everyone beside Mine to this person."""
        return self.person.admin or not self.people.private_galleries

    def _visible(self, where: GalleryFilter) -> GalleryFilter:
        mine = where.mine or not self.sees_everyone
        if where.board_id is not None and self.board(where.board_id) is None:
            where = replace(where, board_id=NO_BOARD)  # not theirs: it shows nothing
        owner_sub = self.person.sub if mine else None
        return replace(where, mine=mine, owner_sub=owner_sub, viewer_sub=self.person.sub)

    def gallery(self, where: GalleryFilter, *, limit: int, offset: int) -> list[GalleryItem]:
        """A page of the images `where` selects among those this person may see."""
        return self._store.gallery(self._visible(where), limit=limit, offset=offset)

    def gallery_count(self, where: GalleryFilter) -> int:
        return self._store.gallery_count(self._visible(where))

    def gallery_position(self, where: GalleryFilter, image_id: int) -> int | None:
        """The image's place in the gallery `where` shows, counting from 0; None if not in it."""
        return self._store.gallery_position(self._visible(where), image_id)

    def image(self, image_id: int) -> GalleryItem | None:
        """The image, or None when it is gone or not this person's to see."""
        item = self._store.image(image_id, viewer_sub=self.person.sub)
        return item if item is not None and self._may_see(item.job) else None

    def may_see_image(self, image_id: int) -> bool | None:
        """True or False for an image in the gallery; None when there is no such image."""
        item = self._store.image(image_id)
        return None if item is None else self._may_see(item.job)

    def delete_image(self, image_id: int) -> None:
        """Delete one image and its files (unless another image has the same picture)."""
        item = self.image(image_id)
        if item is None:
            return
        if not self.may_change(item.job):
            raise NotAllowed(NOT_YOURS_TO_CHANGE)
        self._remove_files(self._store.delete_image(image_id))

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job with its images and their files."""
        job = self.job(job_id)
        if job is None:
            return
        if not self.may_change(job):
            raise NotAllowed(NOT_YOURS_TO_CHANGE)
        if job.in_flight:
            raise NotAllowed(STILL_RUNNING)
        self._remove_files(self._store.delete_job(job_id))

    def _remove_files(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._archive.delete(key)

    def images(self, image_ids: Iterable[int]) -> list[GalleryItem]:
        return [item for item in map(self.image, image_ids) if item is not None]

    def set_favourite(self, image_id: int, favourite: bool) -> None:
        """Mark an image this person may see as one of their own favourites."""
        if self.image(image_id) is not None:
            self._store.set_favourite(image_id, favourite, owner_sub=self.person.sub)

    def thumbnail(self, image: ImageRecord) -> bytes | None:
        """The gallery thumbnail's bytes, or None when it is missing from the archive."""
        if not image.thumb_path:
            return None
        try:
            return self._archive.read(image.thumb_path)
        except OSError:
            return None

    def original(self, image: ImageRecord) -> bytes:
        return self._archive.read(image.file_path or "")

    def original_location(self, image: ImageRecord) -> str | None:
        """Where a person finds the original: a path on this machine, or an s3:// address."""
        if not image.file_path:
            return None
        return self._archive.location(image.file_path)

    def download(self, item: GalleryItem, *, reviewer: bool = False) -> DownloadCopy:
        """The original with its prompt and settings written in, and content credentials
        (for a reviewer, without the task id, the links or the inputs an edit started from)."""
        inputs = () if reviewer else self._ingredients(item)
        return export.download_copy(
            item, self._archive, outside=reviewer, signer=self.content_signer, inputs=inputs
        )

    @property
    def content_credentials_issuer(self) -> str | None:
        """Who signs downloads' content credentials; None when they carry none."""
        return self.content_signer.issuer if self.content_signer else None

    def _ingredients(self, item: GalleryItem) -> list[Ingredient]:
        """The inputs of an edit this studio holds, for its content credentials."""
        return ingredients(self.lineage(item.image.id).made_from, self._archive.read)

    def export_jobs(self, job_ids: Sequence[str], folder: Path) -> list[Path]:
        """The jobs' images this person may see, written into `folder` as the zip holds
        them (metadata and content credentials inside), with manifest.json."""
        items = [item for job in self.jobs(job_ids) for item in self._gallery_of(job)]
        signer, inputs_of = self.content_signer, self._ingredients
        return export.write_folder(items, self._archive, folder, signer=signer, inputs_of=inputs_of)

    def download_filename(self, item: GalleryItem) -> str:
        return export.copy_filename(item)

    def zip(self, image_ids: Sequence[int]) -> bytes:
        return b"".join(self._zip_of(self.images(image_ids)))

    def stream_zip(self, image_ids: Sequence[int], digest: str) -> Iterator[bytes] | None:
        """The zip piece by piece, one image at a time; None unless every image is still
        there, this person's to see, and the picture the link (`digest`) was made for."""
        items = self.images(image_ids)
        if len(items) != len(image_ids) or web.zip_digest(i.image.sha256 for i in items) != digest:
            return None
        return self._zip_of(items)

    def _zip_of(self, items: Sequence[GalleryItem]) -> Iterator[bytes]:
        return export.stream_zip(
            items, self._archive, signer=self.content_signer, inputs_of=self._ingredients
        )

    def mime_type(self, image: ImageRecord | InputAsset) -> str:
        return formats.mime_type(image.format)

    def input_asset(self, asset_id: int) -> InputAsset | None:
        """An input asset by id, if this person may see a job made from it."""
        asset = self._store.input_assets([asset_id]).get(asset_id)
        users = self._store.jobs_using_input_asset(asset_id) if asset is not None else []
        return asset if any(map(self._may_see, users)) else None

    def input_thumbnail(self, asset: InputAsset) -> bytes | None:
        """An input asset's thumbnail, or None when it is missing from the archive."""
        try:
            return self._archive.read(asset.thumb_path)
        except OSError:
            return None

    def input_original(self, asset: InputAsset) -> bytes:
        """An input asset's bytes as edited: cleaned, without metadata."""
        return self._archive.read(asset.file_path)

    # Links ----------------------------------------------------------------------------

    def image_link(self, image: ImageRecord, kind: str, viewer: str) -> str:
        """A signed link to an image's thumbnail, original or download copy."""
        extension = "webp" if kind == "thumb" else formats.extension(image.format or "png")
        path = web.image_path(kind, image.id, image.sha256 or "none", extension)
        return self.signer.sign(path, viewer)

    def input_link(self, asset: InputAsset, kind: str, viewer: str) -> str:
        """A signed link to an input asset's thumbnail or original (see lineage())."""
        extension = "webp" if kind == "thumb" else formats.extension(asset.format)
        return self.signer.sign(web.input_path(kind, asset.id, asset.sha256, extension), viewer)

    def zip_link(self, image_ids: Sequence[int], viewer: str) -> str:
        """A signed link to a zip of the images among `image_ids` this person may see."""
        return self._zip_link(self.images(image_ids), viewer)

    def _zip_link(self, items: Sequence[GalleryItem], viewer: str) -> str:
        digest = web.zip_digest(item.image.sha256 for item in items)
        return self.signer.sign(web.zip_path([item.image.id for item in items], digest), viewer)

    def progress_link(self, job_ids: Sequence[str] | None, viewer: str) -> str:
        return self.signer.sign(web.progress_path(list(job_ids) if job_ids else None), viewer)

    def progress(self, only: Sequence[str] | None) -> list[JobProgress]:
        """Where each job stands, for a browser drawing progress between page runs.

        With `only`, those jobs whether finished or not (so the page learns they ended);
        without, every job in flight.
        """
        jobs = self.jobs(only) if only is not None else self.in_flight()
        now = time.time()
        return [
            JobProgress(
                id=job.id,
                in_flight=job.in_flight,
                progress=100 if job.status is JobStatus.DOWNLOADING else job.progress,
                words=status_words(
                    job.status,
                    progress=job.progress,
                    error_message=job.error_message,
                    key_available=self.has_key_for(job),
                ),
                note=job.error_message if job.in_flight else None,
                elapsed=now - (job.submitted_at or job.created_at),
                estimated=job.estimated_time,
            )
            for job in jobs
        ]

    def zip_filename(self, count: int) -> str:
        return export.zip_filename(count)


def _board_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > BOARD_NAME_CHARS:
        raise BoardInputError(f"Give the board a name of 1 to {BOARD_NAME_CHARS} characters.")
    return cleaned
