"""The door: a Studio bound to one person, handing out the domains.

Pages, components, the routes and the command line reach the core only through here:
`studio.jobs` (sending and following jobs), `studio.gallery` (the images and everything
made of them), `studio.boards` (boards and their review links) and `studio.people`
(spending and usage). Each domain is bound to the same person and asks the same Access
what they may see; the door itself only binds and hands out.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.archive import Archive

# The vocabulary pages and components speak with the domains, named here so that they
# reach the core through this door alone.
from studio.boards.review import COMMENT_CHARS as COMMENT_CHARS
from studio.boards.review import REVIEWER_CHARS as REVIEWER_CHARS
from studio.boards.review import Review as Review
from studio.boards.review import reviewer_name as reviewer_name
from studio.boards.service import BOARD_NAME_CHARS as BOARD_NAME_CHARS
from studio.boards.service import LINK_LABEL_CHARS as LINK_LABEL_CHARS
from studio.boards.service import MAX_LINK_DAYS as MAX_LINK_DAYS
from studio.boards.service import NO_SUCH_BOARD as NO_SUCH_BOARD
from studio.boards.service import BoardService
from studio.errors import ReviewGone as ReviewGone
from studio.gallery.service import EditInput as EditInput
from studio.gallery.service import GalleryService
from studio.gallery.service import Lineage as Lineage
from studio.health import Health, check_parts
from studio.jobs.engine import Engine
from studio.jobs.keys import TypedKeys
from studio.jobs.service import JobProgress as JobProgress
from studio.jobs.service import JobService
from studio.jobs.service import Submission as Submission
from studio.jobs.service import Sweep as Sweep
from studio.jobs.service import SweepResult as SweepResult
from studio.links import UrlSigner
from studio.links import review_url_path as review_url_path
from studio.people import LOCAL, NotAllowed, People, Person
from studio.people.access import Access
from studio.people.service import PeopleService
from studio.people.service import UsageDay as UsageDay
from studio.provenance import ContentSigner
from studio.settings import Settings
from studio.store import Store
from studio.webhook import Webhook


@dataclass(frozen=True)
class Parts:
    """What every person's Studio shares: one per server."""

    settings: Settings
    store: Store
    archive: Archive
    engine: Engine
    keys: TypedKeys
    signer: UrlSigner
    content_signer: ContentSigner | None = None
    webhook: Webhook | None = None  # STUDIO_WEBHOOK_URL's, when set


class Studio:
    """The studio as one person sees it: each domain bound to them, asking one Access."""

    def __init__(self, parts: Parts, person: Person = LOCAL, policy: People | None = None) -> None:
        self._parts = parts
        self.person = person
        self.settings = parts.settings
        self.signer = parts.signer
        policy = policy or People.from_settings(parts.settings)
        access = Access(person, private_galleries=policy.private_galleries)
        store = parts.store
        self.people = PeopleService(parts.settings, store.people, access, policy)
        self.gallery = GalleryService(
            parts.settings,
            store.gallery,
            parts.archive,
            parts.signer,
            access,
            content_signer=parts.content_signer,
        )
        self.boards = BoardService(
            parts.settings,
            store.boards,
            store.reviews,
            parts.archive,
            parts.signer,
            self.gallery,
            access,
            on_review_finished=parts.webhook.review_finished if parts.webhook else None,
        )
        self.jobs = JobService(
            parts.settings,
            store.jobs,
            parts.engine,
            parts.keys,
            parts.signer,
            self.gallery,
            self.people,
            access,
        )

    def for_person(self, person: Person) -> Studio:
        """The studio as `person` sees it: what they may see, change and spend."""
        return Studio(self._parts, person, self.people.policy)

    def acting_as(self, email: str) -> Studio:
        """The studio acting as the person with `email`, for the command line.

        Their subject is the one their jobs were recorded with when they signed in; a
        person who never signed in is named by their email until they do.
        """
        policy = self.people.policy
        if not policy.admits(email):
            raise NotAllowed(f"{email} is not among the people this studio is open to.")
        sub = self.people.subject_of(email) or f"email:{email.strip().lower()}"
        return self.for_person(policy.person(sub, email.strip(), None))

    def health(self) -> Health:
        """Whether this server can do its work, for `/healthz`: database and storage answer."""
        parts = self._parts
        return check_parts({"database": parts.store.check, "storage": parts.archive.check})
