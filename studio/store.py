"""The store: the source of truth for jobs and images (SQLAlchemy Core).

SQLite in WAL mode by default; PostgreSQL (`postgresql+psycopg://...`) so that several
servers can share one history. The schema is Alembic's (see studio.database). Engines
work only on jobs they hold a lease on, and recording a result is idempotent, so no job
is polled by two engines or archived twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from studio import database
from studio.people import Quota, SpendLimitReached, refusal
from studio.records import (
    ArchivedFile,
    Board,
    GalleryFilter,
    GalleryItem,
    ImageRecord,
    InputAsset,
    InputKind,
    InputSource,
    JobOrigin,
    JobRecord,
    ReviewImage,
    ReviewLink,
    ReviewNote,
    Style,
)
from studio.request import GenerationRequest
from studio.search import search_text
from studio.settings import DEFAULTS
from studio.states import IN_FLIGHT, ImageStatus, JobEvent, JobStatus, sources, target, values
from studio.task import Task

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("request_json", sa.Text, nullable=False),
    sa.Column("num_outputs", sa.Integer, nullable=False),
    sa.Column("aspect_ratio", sa.String(16)),
    sa.Column("output_format", sa.String(8)),
    sa.Column("backend", sa.String(16), nullable=False),
    # A one-way fingerprint of the key the job was sent with, never the key itself:
    # after a restart it tells which typed key a waiting job needs.
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(128), unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    sa.Column("error_code", sa.String(128)),
    sa.Column("error_message", sa.Text),
    sa.Column("credits_reserved", sa.Float),
    sa.Column("estimated_time", sa.Float),
    sa.Column("submitted_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("retry_of", sa.String(32)),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.Float),
    sa.Column("batch_id", sa.String(32), index=True),
    # The gallery images an edit was made from, as ",12,15," (see migration 0004).
    sa.Column("parent_image_ids", sa.Text),
    # An edit's input images in the order sent, as ",g12,a3,l," (see migration 0008).
    sa.Column("input_sources", sa.Text),
    # Who made the job (see studio.people); NULL: nobody, as before sign-in (0004).
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("owner_email", sa.String(320)),
    sa.Index("ix_jobs_status", "status"),
    sa.Index("ix_jobs_created_at", "created_at"),
    sa.Index("ix_jobs_owner_created_at", "owner_sub", "created_at"),
)

# Named prompt snippets (see migration 0006): a person's own, or shared with everyone.
styles = sa.Table(
    "styles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# Uploads edits were made from, kept for their lineage (see migration 0008): not gallery
# images. Their files are content-addressed under `inputs/` (see Archive.save_input).
input_assets = sa.Table(
    "input_assets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("file_path", sa.Text, nullable=False),
    sa.Column("thumb_path", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("sha256", name="uq_input_assets_sha256"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)
_SOURCE_LETTERS = {InputKind.GALLERY: "g", InputKind.UPLOAD: "a", InputKind.LINK: "l"}
_SOURCE_KINDS = {letter: kind for kind, letter in _SOURCE_LETTERS.items()}

# When each FoxAPI key (by fingerprint) may next send a request, for every process.
request_slots = sa.Table(
    "request_slots",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("next_free", sa.Float, nullable=False),
)

images = sa.Table(
    "images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source_url", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("archived_at", sa.Float),
    sa.Column("file_path", sa.Text),
    sa.Column("thumb_path", sa.Text),
    sa.Column("sha256", sa.String(64)),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("format", sa.String(8)),
    sa.Column("size_bytes", sa.Integer),
    # The job's created_at, copied when the image is recorded: the gallery lists images
    # newest job first, and with that order on this table one index walk serves a page.
    sa.Column("job_created_at", sa.Float, nullable=False),
    # The job's owner, copied like job_created_at: Mine is one walk of its own index.
    sa.Column("owner_sub", sa.String(255)),
    sa.UniqueConstraint("job_id", "position", name="uq_images_job_position"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# Each person's favourites (see migration 0010): `owner_sub` is "" for the one person of
# a studio without sign-in (whose jobs belong to nobody), as a key column cannot be NULL.
favourites = sa.Table(
    "favourites",
    metadata,
    sa.Column("owner_sub", sa.String(255), primary_key=True),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
    sa.Index("ix_favourites_image", "image_id"),
)

# Boards (see migration 0007): a person's named, ordered collections of images. An image
# may be in several boards; deleting it takes it out of all of them.
boards = sa.Table(
    "boards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("owner_email", sa.String(320)),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Index("ix_boards_owner_updated", "owner_sub", "updated_at"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

board_images = sa.Table(
    "board_images",
    metadata,
    sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_board_images_image", "image_id"),
)

# A board shared for review. Only the token's SHA-256 is kept; the token itself is shown
# once. window_start/window_changes count the link's votes and comments of the current
# minute, moved in the same statement that checks them (see Store.review_change).
review_links = sa.Table(
    "review_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(120), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
    sa.Column("allow_downloads", sa.Boolean, nullable=False),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("window_changes", sa.Integer, nullable=False),
    sa.Index("ix_review_links_board", "board_id"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# One reviewer's vote and comment on one image, per link.
review_notes = sa.Table(
    "review_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), nullable=False),
    sa.Column("reviewer", sa.String(60), nullable=False),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
    sa.Column("vote", sa.String(16)),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("link_id", "reviewer", "image_id", name="uq_review_notes_reviewer"),
    sa.Index("ix_review_notes_image", "image_id", "link_id"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# A reviewer's "Send my review" through one link (see migration 0011).
review_finishes = sa.Table(
    "review_finishes",
    metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), primary_key=True),
    sa.Column("reviewer", sa.String(60), primary_key=True),
    sa.Column("finished_at", sa.Float, nullable=False),
)

# When a board's owner last opened it: what reviewers said since is news (migration 0012).
board_seen = sa.Table(
    "board_seen",
    metadata,
    sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)

# The prompt search index on SQLite: an FTS5 table made by a migration (0002), one row per
# image, its rowid the image's id. On PostgreSQL, a pg_trgm index on jobs.prompt instead.
image_search = sa.table(database.SEARCH_TABLE, sa.column("rowid"), sa.column("prompt"))
TRIGRAM = 3  # characters; shorter searches cannot use a trigram index
UNIX_EPOCH_JULIAN_DAY = 2440587.5  # SQLite's julianday() of 1970-01-01 00:00 UTC
SECONDS_PER_DAY = 86400.0
COUNT_TTL = 2.0  # seconds a gallery count is trusted when no change was seen here
RATE_WINDOW = 60.0  # seconds: review changes are counted per link per minute
MAX_KEPT_PAGES = 256  # gallery pages whose ids are kept at once

# Newest job first, a job's images in their order; job_id settles jobs made in the same instant.
GALLERY_ORDER = (images.c.job_created_at.desc(), images.c.job_id, images.c.position)
sa.Index("ix_images_gallery", images.c.status, *GALLERY_ORDER)
sa.Index("ix_images_owner_gallery", images.c.owner_sub, images.c.status, *GALLERY_ORDER)

# PostgreSQL advisory lock keys that serialise spending: one for the whole studio's
# month, and one per person (a hash of the owner in this key space).
MONTH_LOCK_KEY = 0x5374_7564_696F_4D6F  # "StudioMo"
PERSON_LOCK_SPACE = "studio-spend:"


class Store:
    def __init__(self, url: str, *, pool_size: int = DEFAULTS.studio_database_pool_size) -> None:
        """Open the database at `url` and upgrade its schema (see studio.database).

        Raises DatabaseUnavailable when it does not answer, DatabaseTooNew when a newer
        studio upgraded it.
        """
        self.engine: Engine = database.create_engine(url, pool_size=pool_size)
        self._sqlite = self.engine.dialect.name == "sqlite"
        self._counts: dict[GalleryFilter, tuple[int, float]] = {}
        # The ids on each page asked for lately, kept and dropped like the counts.
        self._pages: dict[tuple[GalleryFilter, int, int], tuple[list[int], float]] = {}
        self._counts_generation = 0  # changes made here so far
        self._counts_lock = threading.Lock()
        try:
            database.upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def check(self) -> None:
        """Raise DatabaseUnavailable, saying why, unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(1))

    def close(self) -> None:
        self.engine.dispose()

    # Jobs -------------------------------------------------------------------------

    def create_job(
        self,
        request: GenerationRequest,
        *,
        backend: str,
        key_id: str,
        lease_owner: str,
        lease_seconds: float,
        retry_of: str | None = None,
        origin: JobOrigin = JobOrigin(),  # noqa: B008 (frozen: one shared empty origin is fine)
        owner_sub: str | None = None,
        owner_email: str | None = None,
        quota: Quota | None = None,
    ) -> JobRecord:
        """Record a job about to be sent, owned by `owner_sub`.

        With a `quota`, the job's images must fit in what its owner may still spend today
        and the studio this month, counted in the same transaction that records it, so
        servers, tabs and double clicks sending at once cannot overrun a limit between
        them. Raises SpendLimitReached (and records nothing) when it does not fit.
        """
        now = time.time()
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            if quota is not None and not self._sqlite:
                # Senders of one person, and all senders for the month, take turns here.
                # SQLite needs no lock: the insert below takes its one write lock first.
                person_key = sa.func.hashtext(PERSON_LOCK_SPACE + (owner_sub or ""))
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(person_key)))
                if quota.monthly_limit:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MONTH_LOCK_KEY)))
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    created_at=now,
                    updated_at=now,
                    mode=request.mode.value,
                    prompt=request.prompt,
                    request_json=request.to_json(),
                    num_outputs=request.num_outputs,
                    aspect_ratio=request.aspect_ratio,
                    output_format=request.output_format,
                    backend=backend,
                    key_id=key_id,
                    status=JobStatus.SUBMITTING.value,
                    progress=0,
                    retry_of=retry_of,
                    batch_id=origin.batch_id,
                    parent_image_ids=_id_list(origin.parent_image_ids),
                    input_sources=_sources_text(origin.inputs),
                    lease_owner=lease_owner,
                    lease_until=now + lease_seconds,
                    owner_sub=owner_sub,
                    owner_email=owner_email,
                )
            )
            if quota is not None:
                # The new job counts itself: what is over the limit rolls the insert back.
                self._check_quota(conn, quota, owner_sub, request.num_outputs)
        return self.job(job_id)

    def _check_quota(
        self, conn: sa.Connection, quota: Quota, owner_sub: str | None, asked: int
    ) -> None:
        if quota.daily_limit:
            spent = _spent(conn, quota.day_start, _owned_by(jobs.c.owner_sub, owner_sub))
            if spent > quota.daily_limit:
                left = max(0, quota.daily_limit - (spent - asked))
                raise SpendLimitReached(
                    refusal(left=left, limit=quota.daily_limit, asked=asked, period="day")
                )
        if quota.monthly_limit:
            spent = _spent(conn, quota.month_start)
            if spent > quota.monthly_limit:
                left = max(0, quota.monthly_limit - (spent - asked))
                raise SpendLimitReached(
                    refusal(left=left, limit=quota.monthly_limit, asked=asked, period="month")
                )

    def add_input_asset(self, archived: ArchivedFile) -> InputAsset:
        """Record an archived upload once: the same bytes again get the same asset."""
        values = {
            "sha256": archived.sha256,
            "file_path": archived.file_path,
            "thumb_path": archived.thumb_path,
            "width": archived.width,
            "height": archived.height,
            "format": archived.format,
            "size_bytes": archived.size_bytes,
            "created_at": time.time(),
        }
        insert: Any = self._upsert(input_assets)
        with self.engine.begin() as conn:
            conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
            row = conn.execute(
                sa.select(input_assets).where(input_assets.c.sha256 == archived.sha256)
            ).one()
        return _input_asset(row)

    def input_assets(self, asset_ids: Iterable[int]) -> dict[int, InputAsset]:
        """The input assets still on record among `asset_ids`, by id."""
        wanted = sorted(set(asset_ids))
        if not wanted:
            return {}
        query = sa.select(input_assets).where(input_assets.c.id.in_(wanted))
        with self.engine.connect() as conn:
            return {row.id: _input_asset(row) for row in conn.execute(query)}

    def jobs_using_input_asset(self, asset_id: int) -> list[JobRecord]:
        query = sa.select(jobs).where(jobs.c.input_sources.like(f"%,a{int(asset_id)},%"))
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query)]

    def forget_unused_input_assets(self, asset_ids: Iterable[int]) -> list[str]:
        """Forget those of `asset_ids` no job uses any more; return their files."""
        with self.engine.begin() as conn:
            return _forget_unused_input_assets(conn, asset_ids)

    def delete_unsent_job(self, job_id: str) -> None:
        """Forget a job whose POST provably never created a task (nothing was billed)."""
        with self.engine.begin() as conn:
            conn.execute(
                jobs.delete().where(
                    jobs.c.id == job_id,
                    jobs.c.task_id.is_(None),
                    jobs.c.status == JobStatus.SUBMITTING.value,
                )
            )

    def record_progress(
        self, job_id: str, event: JobEvent, task: Task, *, owner: str | None = None
    ) -> bool:
        """Save what FoxAPI says about a running task. False if `owner` lost the lease."""
        return self._transition(job_id, event, owner, _task_values(task))

    def mark_submitted(
        self, job_id: str, event: JobEvent, task: Task, *, owner: str, lease_seconds: float
    ) -> None:
        """The POST was answered: the job has a task id and is billed.

        This is the truth even if another engine meanwhile gave up waiting and marked the
        job "outcome unknown": the transition table lets the answer override that.
        """
        now = time.time()
        values = _task_values(task) | {
            "submitted_at": now,
            "error_message": None,
            "finished_at": None,
            "lease_owner": owner,
            "lease_until": now + lease_seconds,
        }
        self._transition(job_id, event, None, values)

    def mark_outcome_unknown(
        self, job_id: str, message: str, *, error_code: str | None = None
    ) -> None:
        """The POST may or may not have arrived. Only a job still being submitted qualifies."""
        self.finish_job(
            job_id, JobEvent.OUTCOME_UNKNOWN, error_code=error_code, error_message=message
        )

    def record_results(self, job_id: str, task: Task, *, owner: str | None = None) -> bool:
        """Keep every result URL of a completed task, once, and start archiving them."""
        now = time.time()
        with self.engine.begin() as conn:
            known = set(
                conn.execute(
                    sa.select(images.c.position).where(images.c.job_id == job_id)
                ).scalars()
            )
            job_created_at, owner_sub = conn.execute(
                sa.select(jobs.c.created_at, jobs.c.owner_sub).where(jobs.c.id == job_id)
            ).one()
            rows = [
                {
                    "job_id": job_id,
                    "position": position,
                    "status": ImageStatus.PENDING.value,
                    "source_url": url,
                    "created_at": now,
                    "job_created_at": job_created_at,
                    "owner_sub": owner_sub,
                }
                for position, url in enumerate(task.result_urls)
                if position not in known
            ]
            if rows:
                conn.execute(images.insert(), rows)
        values: dict[str, Any] = {"progress": 100}
        if task.credits_reserved is not None:
            values["credits_reserved"] = task.credits_reserved
        return self._transition(job_id, JobEvent.RESULTS_READY, owner, values)

    def finish_job(
        self,
        job_id: str,
        event: JobEvent,
        *,
        owner: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move the job to the final state `event` leads to, giving up its lease."""
        return self._transition(
            job_id,
            event,
            owner,
            {
                "error_code": error_code,
                "error_message": error_message,
                "finished_at": time.time(),
                "lease_owner": None,
                "lease_until": None,
            },
        )

    def set_job_note(self, job_id: str, message: str | None, *, owner: str | None) -> None:
        """A passing problem worth showing on the card (FoxAPI busy, key refused...)."""
        self._update_job(job_id, owner, {"error_message": message}, only_status=IN_FLIGHT)

    def job(self, job_id: str) -> JobRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()
        return _job(row)

    def jobs(
        self,
        statuses: Iterable[JobStatus] | None = None,
        *,
        limit: int | None = None,
        only_owner: bool = False,
        owner_sub: str | None = None,
    ) -> list[JobRecord]:
        """Jobs newest first: in `statuses` if given, and `owner_sub`'s alone if `only_owner`."""
        query = sa.select(jobs).order_by(jobs.c.created_at.desc())
        if only_owner:
            query = query.where(_owned_by(jobs.c.owner_sub, owner_sub))
        if statuses is not None:
            in_statuses = jobs.c.status.in_(values(statuses))
            # Asked-for statuses (in flight, needing attention) hold few jobs next to the
            # finished ones. Told so, SQLite keeps to the status index even after an ANALYZE,
            # whose statistics (nearly every job one status) would have it read every job in
            # date order instead; an index on (status, created_at) does not change that.
            query = query.where(sa.func.unlikely(in_statuses) if self._sqlite else in_statuses)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query)]

    def images_billed_since(self, since: float) -> int:
        """Images of jobs FoxAPI accepted (or may have) since `since`; demo jobs cost nothing."""
        query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.num_outputs), 0)).where(
            jobs.c.created_at >= since, _billed()
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def owner_sub_for_email(self, email: str) -> str | None:
        """The subject the newest job of `email` was recorded with, if any."""
        query = (
            sa.select(jobs.c.owner_sub)
            .where(sa.func.lower(jobs.c.owner_email) == email.strip().lower())
            .order_by(jobs.c.created_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def images_spent_by(self, owner_sub: str | None, since: float) -> int:
        """Images `owner_sub` has spent since `since`, counting those being sent now."""
        with self.engine.connect() as conn:
            return _spent(conn, since, _owned_by(jobs.c.owner_sub, owner_sub))

    def images_spent_since(self, since: float) -> int:
        """Images the whole studio has spent since `since`, counting those being sent now."""
        with self.engine.connect() as conn:
            return _spent(conn, since)

    def billed_jobs_since(self, since: float) -> list[tuple[float, str | None, int]]:
        """(created_at, owner email, images) of every billed job since `since`, oldest first."""
        query = (
            sa.select(jobs.c.created_at, jobs.c.owner_email, jobs.c.num_outputs)
            .where(jobs.c.created_at >= since, _billed())
            .order_by(jobs.c.created_at)
        )
        with self.engine.connect() as conn:
            return [(row[0], row[1], row[2]) for row in conn.execute(query)]

    def finishes(self, backend: str, *, limit: int) -> list[tuple[str, int, float, float]]:
        """How long `backend`'s newest finished tasks really took, for the poll schedule.

        Newest first: (mode, image count, estimated time, seconds from submission until
        the studio saw the results), read from when their first image was recorded.
        """
        took = images.c.created_at - jobs.c.submitted_at
        query = (
            sa.select(
                jobs.c.mode, jobs.c.num_outputs, jobs.c.estimated_time, took.label("seen_after")
            )
            .select_from(
                jobs.join(images, sa.and_(images.c.job_id == jobs.c.id, images.c.position == 0))
            )
            .where(jobs.c.backend == backend, jobs.c.estimated_time > 0, took > 0)
            .order_by(jobs.c.created_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (row.mode, row.num_outputs, row.estimated_time, row.seen_after)
                for row in conn.execute(query)
            ]

    def add_style(self, owner_sub: str | None, name: str, text: str, *, shared: bool) -> int:
        with self.engine.begin() as conn:
            new_id = conn.execute(
                styles.insert()
                .values(
                    owner_sub=owner_sub, name=name, text=text, shared=shared, created_at=time.time()
                )
                .returning(styles.c.id)
            ).scalar_one()
        return int(new_id)

    def styles_for(self, owner_sub: str | None) -> list[Style]:
        """`owner_sub`'s own styles and everyone's shared ones, by name."""
        query = (
            sa.select(styles)
            .where(sa.or_(_owned_by(styles.c.owner_sub, owner_sub), styles.c.shared.is_(True)))
            .order_by(styles.c.name, styles.c.id)
        )
        with self.engine.connect() as conn:
            return [
                Style(row.id, row.name, row.text, bool(row.shared), row.owner_sub == owner_sub)
                for row in conn.execute(query)
            ]

    def delete_style(self, style_id: int, owner_sub: str | None) -> bool:
        """Delete a style of `owner_sub`'s; False when there is none of theirs by that id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                styles.delete().where(
                    styles.c.id == style_id, _owned_by(styles.c.owner_sub, owner_sub)
                )
            )
        return result.rowcount == 1

    def batch_jobs(self, batch_id: str) -> list[JobRecord]:
        """A sweep's jobs in the order they were made: row by row of its grid."""
        query = sa.select(jobs).where(jobs.c.batch_id == batch_id).order_by(jobs.c.created_at)
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query)]

    def children(self, image_id: int) -> list[JobRecord]:
        """Edits made from `image_id`, oldest first."""
        query = (
            sa.select(jobs)
            .where(jobs.c.parent_image_ids.like(f"%,{int(image_id)},%"))
            .order_by(jobs.c.created_at)
        )
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query)]

    def recent_prompts(
        self,
        *,
        limit: int,
        search: str = "",
        only_owner: bool = False,
        owner_sub: str | None = None,
    ) -> list[str]:
        """Distinct prompts, most recently used first; those containing `search` if given,
        and `owner_sub`'s alone if `only_owner`."""
        last_used = sa.func.max(jobs.c.created_at)
        query = sa.select(jobs.c.prompt).group_by(jobs.c.prompt).order_by(last_used.desc())
        if only_owner:
            query = query.where(_owned_by(jobs.c.owner_sub, owner_sub))
        if search_text(search):
            pattern = "%" + _escape_like(search_text(search)) + "%"
            query = query.where(jobs.c.prompt.ilike(pattern, escape="\\"))
        with self.engine.connect() as conn:
            return list(conn.execute(query.limit(limit)).scalars())

    # Leases -----------------------------------------------------------------------

    def claim_jobs(
        self,
        owner: str,
        lease_seconds: float,
        *,
        statuses: Sequence[JobStatus] = IN_FLIGHT,
        dead_owners: Iterable[str] = (),
    ) -> list[JobRecord]:
        """Take every unleased, lapsed or dead-owner job in `statuses`; renew our own."""
        now = time.time()
        claimable = sa.or_(
            jobs.c.lease_owner.is_(None),
            jobs.c.lease_until < now,
            jobs.c.lease_owner == owner,
            jobs.c.lease_owner.in_(list(dead_owners)),
        )
        in_statuses = jobs.c.status.in_(values(statuses))
        # One statement. PostgreSQL locks each claimable row, re-checking `claimable` on
        # its newest version, and skips rows another engine has locked instead of waiting
        # (or deadlocking) on them; SQLite lets one writer in at a time. So two engines
        # claiming at once never both get a job (tests/test_store.py proves it under load).
        takeable = (
            sa.select(jobs.c.id).where(in_statuses, claimable).with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id.in_(takeable), in_statuses, claimable)
                .values(lease_owner=owner, lease_until=now + lease_seconds)
            )
            rows = conn.execute(
                sa.select(jobs).where(in_statuses, jobs.c.lease_owner == owner)
            ).all()
        return [_job(row) for row in rows]

    def lease_owners(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    sa.select(jobs.c.lease_owner).where(jobs.c.lease_owner.is_not(None)).distinct()
                ).scalars()
            )

    def release_leases(self, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    # Images -----------------------------------------------------------------------

    def pending_images(self, job_id: str) -> list[ImageRecord]:
        return self._images(
            sa.and_(images.c.job_id == job_id, images.c.status == ImageStatus.PENDING.value)
        )

    def job_images(self, job_id: str, *, viewer_sub: str | None = None) -> list[ImageRecord]:
        """The job's images, marked with `viewer_sub`'s favourites."""
        return self._images(images.c.job_id == job_id, viewer_sub)

    def archive_image(self, image_id: int, archived: ArchivedFile) -> bool:
        """Record a downloaded image. Idempotent: False if it was archived already."""
        self._forget_counts()
        with self.engine.begin() as conn:
            result = conn.execute(
                images.update()
                .where(images.c.id == image_id, images.c.status == ImageStatus.PENDING.value)
                .values(
                    status=ImageStatus.ARCHIVED.value,
                    archived_at=time.time(),
                    file_path=archived.file_path,
                    thumb_path=archived.thumb_path,
                    sha256=archived.sha256,
                    width=archived.width,
                    height=archived.height,
                    format=archived.format,
                    size_bytes=archived.size_bytes,
                )
            )
        return result.rowcount == 1

    def expire_image(self, image_id: int) -> None:
        self._forget_counts()
        with self.engine.begin() as conn:
            conn.execute(
                images.update()
                .where(images.c.id == image_id, images.c.status == ImageStatus.PENDING.value)
                .values(status=ImageStatus.EXPIRED.value)
            )

    def image(self, image_id: int, *, viewer_sub: str | None = None) -> GalleryItem | None:
        """The image with its job, marked with `viewer_sub`'s favourites; None if gone."""
        where = GalleryFilter(viewer_sub=viewer_sub)
        items = self._gallery_query(images, images.c.id == image_id, where, limit=1, offset=0)
        return items[0] if items else None

    def gallery(self, where: GalleryFilter, *, limit: int, offset: int) -> list[GalleryItem]:
        """The images on one page of `where`, newest first.

        Which images are on the page is kept like the counts (gallery_count): a search
        reads every match from its index before the page's few are taken, so each rerun
        would. The images themselves are read afresh every time.
        """
        now = time.monotonic()
        key = (where, limit, offset)
        with self._counts_lock:
            cached = self._pages.get(key)
            generation = self._counts_generation
        if cached is not None and now - cached[1] < COUNT_TTL:
            ids = images.c.id.in_(cached[0])
            return self._gallery_query(images, ids, where, limit=limit, offset=0)
        items = self._gallery_query(
            self._gallery_source(where),
            self._gallery_condition(where),
            where,
            limit=limit,
            offset=offset,
        )
        with self._counts_lock:
            if generation == self._counts_generation:
                if len(self._pages) >= MAX_KEPT_PAGES:
                    self._pages.clear()  # many searches and pages browsed: start again
                self._pages[key] = ([item.image.id for item in items], now)
        return items

    def gallery_count(self, where: GalleryFilter) -> int:
        """How many images `where` shows; kept a moment, since every rerun asks.

        A count reads every matching image (no index answers it), so it is remembered per
        filter until this process changes an image, or COUNT_TTL seconds pass (another
        process's changes).
        """
        now = time.monotonic()
        with self._counts_lock:
            cached = self._counts.get(where)
            generation = self._counts_generation
        if cached is not None and now - cached[1] < COUNT_TTL:
            return cached[0]
        query = (
            sa.select(sa.func.count())
            .select_from(self._gallery_source(where))
            .where(self._gallery_condition(where))
        )
        with self.engine.connect() as conn:
            count = int(conn.execute(query).scalar_one())
        with self._counts_lock:
            # A change made while counting may not be in `count`: then it is not kept.
            if generation == self._counts_generation:
                self._counts[where] = (count, now)
        return count

    def _forget_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()
            self._pages.clear()
            self._counts_generation += 1

    def gallery_position(self, where: GalleryFilter, image_id: int) -> int | None:
        """Where `image_id` stands in the gallery `where` shows (0 first); None if not in it."""
        anchor = images.alias("anchor")
        place = sa.select(anchor).where(anchor.c.id == image_id).subquery()
        after_it = sa.or_(
            images.c.job_created_at > place.c.job_created_at,
            sa.and_(
                images.c.job_created_at == place.c.job_created_at,
                sa.or_(
                    images.c.job_id < place.c.job_id,
                    sa.and_(
                        images.c.job_id == place.c.job_id, images.c.position < place.c.position
                    ),
                ),
            ),
        )
        source = self._gallery_source(where)
        condition = self._gallery_condition(where)
        shown = (
            sa.select(sa.func.count()).select_from(source).where(condition, images.c.id == image_id)
        )
        before = (
            sa.select(sa.func.count())
            .select_from(source.join(place, sa.true()))
            .where(condition, after_it)
        )
        with self.engine.connect() as conn:
            if not conn.execute(shown).scalar_one():
                return None
            return int(conn.execute(before).scalar_one())

    def set_favourite(
        self, image_id: int, favourite: bool, *, owner_sub: str | None = None
    ) -> None:
        """Mark or unmark the image as one of `owner_sub`'s favourites."""
        self._forget_counts()
        mark = {"owner_sub": owner_sub or "", "image_id": image_id}
        with self.engine.begin() as conn:
            conn.execute(favourites.delete().filter_by(**mark))
            if favourite:
                conn.execute(favourites.insert().values(**mark))

    def delete_image(self, image_id: int) -> list[str]:
        """Forget one image; return its files that no other image uses any more."""
        self._forget_counts()
        with self.engine.begin() as conn:
            return _delete_images(conn, images.c.id == image_id)

    def delete_job(self, job_id: str) -> list[str]:
        """Forget a finished job and its images; return the files no other image uses.

        A job still in flight stays, and nothing is returned: its engine is working on it.
        """
        self._forget_counts()
        with self.engine.begin() as conn:
            status = conn.execute(
                sa.select(jobs.c.status).where(jobs.c.id == job_id).with_for_update()
            ).scalar_one_or_none()
            if status is None or JobStatus(status) in IN_FLIGHT:
                return []
            sources = conn.execute(
                sa.select(jobs.c.input_sources).where(jobs.c.id == job_id)
            ).scalar_one()
            unused = _delete_images(conn, images.c.job_id == job_id)
            conn.execute(jobs.delete().where(jobs.c.id == job_id))
            # Its uploads go too, unless another job was made from them as well.
            asset_ids = JobOrigin(inputs=_sources(sources)).input_asset_ids
            unused += _forget_unused_input_assets(conn, asset_ids)
        return unused

    # Boards -----------------------------------------------------------------------

    def create_board(self, owner_sub: str | None, owner_email: str | None, name: str) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                boards.insert()
                .values(
                    owner_sub=owner_sub,
                    owner_email=owner_email,
                    name=name,
                    created_at=now,
                    updated_at=now,
                    archived=False,
                )
                .returning(boards.c.id)
            ).scalar_one()
        return int(new_id)

    def board(self, board_id: int) -> Board | None:
        found = self._boards(boards.c.id == board_id)
        return found[0] if found else None

    def boards(self, owner_sub: str | None, *, archived: bool) -> list[Board]:
        """`owner_sub`'s boards, archived or not, the most recently changed first."""
        return self._boards(
            sa.and_(_owned_by(boards.c.owner_sub, owner_sub), boards.c.archived.is_(archived))
        )

    def boards_of_image(self, image_id: int, owner_sub: str | None) -> list[Board]:
        """`owner_sub`'s boards that hold `image_id`, archived or not."""
        holding = sa.select(board_images.c.board_id).where(board_images.c.image_id == image_id)
        return self._boards(
            sa.and_(_owned_by(boards.c.owner_sub, owner_sub), boards.c.id.in_(holding))
        )

    def update_board(self, board_id: int, **changes: Any) -> None:
        """Change a board's name or archived flag; it counts as changed now."""
        with self.engine.begin() as conn:
            conn.execute(
                boards.update()
                .where(boards.c.id == board_id)
                .values(updated_at=time.time(), **changes)
            )

    def add_board_images(self, board_id: int, image_ids: Sequence[int]) -> int:
        """Append the archived images among `image_ids` not yet on the board, in that order;
        return how many were new."""
        self._forget_counts()
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)  # first: the write lock before the reads
            present = set(
                conn.execute(
                    sa.select(board_images.c.image_id).where(board_images.c.board_id == board_id)
                ).scalars()
            )
            archived = set(
                conn.execute(
                    sa.select(images.c.id).where(
                        images.c.id.in_(list(image_ids)),
                        images.c.status == ImageStatus.ARCHIVED.value,
                    )
                ).scalars()
            )
            new = list(dict.fromkeys(i for i in image_ids if i in archived and i not in present))
            if not new:
                return 0
            last = conn.execute(
                sa.select(sa.func.max(board_images.c.position)).where(
                    board_images.c.board_id == board_id
                )
            ).scalar_one()
            start = -1 if last is None else int(last)
            rows = [
                {"board_id": board_id, "image_id": image_id, "position": start + 1 + offset}
                for offset, image_id in enumerate(new)
            ]
            conn.execute(board_images.insert(), rows)
        return len(new)

    def remove_board_image(self, board_id: int, image_id: int) -> None:
        self._forget_counts()
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)
            conn.execute(
                board_images.delete().where(
                    board_images.c.board_id == board_id, board_images.c.image_id == image_id
                )
            )

    def board_image_ids(self, board_id: int) -> list[int]:
        """The board's images in its order."""
        query = (
            sa.select(board_images.c.image_id)
            .where(board_images.c.board_id == board_id)
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def reorder_board(self, board_id: int, image_ids: Sequence[int]) -> None:
        """Put the board's images in the order `image_ids` gives; those it leaves out
        follow in their old order, and ids not on the board are ignored."""
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)
            current = list(
                conn.execute(
                    sa.select(board_images.c.image_id)
                    .where(board_images.c.board_id == board_id)
                    .order_by(board_images.c.position, board_images.c.image_id)
                ).scalars()
            )
            on_board = set(current)
            wanted = [i for i in dict.fromkeys(image_ids) if i in on_board]
            order = wanted + [i for i in current if i not in set(wanted)]
            for position, image_id in enumerate(order):
                conn.execute(
                    board_images.update()
                    .where(board_images.c.board_id == board_id, board_images.c.image_id == image_id)
                    .values(position=position)
                )

    def board_items(self, board_id: int, *, viewer_sub: str | None = None) -> list[GalleryItem]:
        """The board's archived images with their jobs, in the board's order (marked with
        `viewer_sub`'s favourites)."""
        query = (
            sa.select(images, jobs, _favourite_of(viewer_sub))
            .select_from(
                board_images.join(images, images.c.id == board_images.c.image_id).join(
                    jobs, jobs.c.id == images.c.job_id
                )
            )
            .where(
                board_images.c.board_id == board_id,
                images.c.status == ImageStatus.ARCHIVED.value,
            )
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            return [_gallery_item(row) for row in conn.execute(query)]

    def _touch_board(self, conn: sa.Connection, board_id: int) -> None:
        conn.execute(boards.update().where(boards.c.id == board_id).values(updated_at=time.time()))

    def _boards(self, condition: sa.ColumnElement[bool]) -> list[Board]:
        count = (
            sa.select(sa.func.count())
            .where(board_images.c.board_id == boards.c.id)
            .scalar_subquery()
        )
        cover = (
            sa.select(board_images.c.image_id)
            .where(board_images.c.board_id == boards.c.id)
            .order_by(board_images.c.position, board_images.c.image_id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            sa.select(boards, count.label("image_count"), cover.label("cover_image_id"))
            .where(condition)
            .order_by(boards.c.updated_at.desc(), boards.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [
                Board(
                    id=row.id,
                    name=row.name,
                    owner_sub=row.owner_sub,
                    owner_email=row.owner_email,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    archived=bool(row.archived),
                    image_count=int(row.image_count),
                    cover_image_id=row.cover_image_id,
                )
                for row in conn.execute(query)
            ]

    # Review links -----------------------------------------------------------------

    def create_review_link(
        self,
        board_id: int,
        token_sha256: str,
        *,
        label: str,
        expires_at: float | None,
        allow_downloads: bool,
    ) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                review_links.insert()
                .values(
                    board_id=board_id,
                    token_sha256=token_sha256,
                    label=label,
                    created_at=now,
                    expires_at=expires_at,
                    revoked_at=None,
                    allow_downloads=allow_downloads,
                    window_start=now,
                    window_changes=0,
                )
                .returning(review_links.c.id)
            ).scalar_one()
        return int(new_id)

    def review_links(self, board_id: int) -> list[ReviewLink]:
        """The board's links, newest first."""
        return self._review_links(review_links.c.board_id == board_id)

    def review_link(self, link_id: int) -> ReviewLink | None:
        found = self._review_links(review_links.c.id == link_id)
        return found[0] if found else None

    def review_link_by_token(self, token_sha256: str) -> tuple[ReviewLink, str] | None:
        """The link with this token hash, live or not, and its board's name."""
        found = self._review_links(review_links.c.token_sha256 == token_sha256)
        if not found:
            return None
        with self.engine.connect() as conn:
            name = conn.execute(
                sa.select(boards.c.name).where(boards.c.id == found[0].board_id)
            ).scalar_one()
        return found[0], name

    def revoke_review_link(self, link_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                review_links.update()
                .where(review_links.c.id == link_id, review_links.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )

    def _review_links(self, condition: sa.ColumnElement[bool]) -> list[ReviewLink]:
        reviewers = (
            sa.select(sa.func.count(sa.distinct(review_notes.c.reviewer)))
            .where(review_notes.c.link_id == review_links.c.id)
            .scalar_subquery()
        )
        query = (
            sa.select(review_links, reviewers.label("reviewer_count"))
            .where(condition)
            .order_by(review_links.c.created_at.desc(), review_links.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [
                ReviewLink(
                    id=row.id,
                    board_id=row.board_id,
                    label=row.label,
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                    revoked=row.revoked_at is not None,
                    allow_downloads=bool(row.allow_downloads),
                    reviewer_count=int(row.reviewer_count),
                )
                for row in conn.execute(query)
            ]

    # The review side: every read goes through the token's hash and the link being live,
    # in the same query, so nothing a reviewer sends reaches beyond that link's board.

    def review_images(self, token_sha256: str, now: float) -> list[ReviewImage] | None:
        """The images of the live link's board in order; None when no live link has it."""
        # Left joins one after another, from the link down: one row (with no image) for
        # an empty board, none for a link that is not live; each step is a key lookup.
        archived = sa.and_(
            images.c.id == board_images.c.image_id,
            images.c.status == ImageStatus.ARCHIVED.value,
        )
        query = (
            sa.select(
                images.c.id,
                jobs.c.prompt,
                jobs.c.aspect_ratio,
                images.c.width,
                images.c.height,
                images.c.format,
            )
            .select_from(
                review_links.outerjoin(
                    board_images, board_images.c.board_id == review_links.c.board_id
                )
                .outerjoin(images, archived)
                .outerjoin(jobs, jobs.c.id == images.c.job_id)
            )
            .where(live_link(token_sha256, now))
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return [
            ReviewImage(
                image_id=row.id,
                position=index,
                prompt=row.prompt,
                aspect_ratio=row.aspect_ratio,
                width=row.width or 0,
                height=row.height or 0,
                format=row.format or "png",
            )
            for index, row in enumerate(row for row in rows if row.id is not None)
        ]

    def review_image(
        self, token_sha256: str, now: float, image_id: int
    ) -> tuple[int, bool, ImageRecord | None] | None:
        """(link id, downloads allowed, the image if it is on the link's board), or None
        when no live link has this token."""
        on_board = sa.and_(
            board_images.c.board_id == review_links.c.board_id,
            board_images.c.image_id == image_id,
        )
        archived = sa.and_(
            images.c.id == board_images.c.image_id,
            images.c.status == ImageStatus.ARCHIVED.value,
        )
        query = (
            sa.select(review_links.c.id, review_links.c.allow_downloads, images)
            .select_from(review_links.outerjoin(board_images, on_board).outerjoin(images, archived))
            .where(live_link(token_sha256, now))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        image = None if row[2] is None else _image(row[2:])
        return row[0], bool(row[1]), image

    def review_link_shows(self, link_id: int, image_id: int, now: float) -> tuple[bool, bool]:
        """(whether live link `link_id` shows archived image `image_id`, downloads allowed)."""
        query = (
            sa.select(review_links.c.allow_downloads)
            .select_from(
                review_links.join(
                    board_images, board_images.c.board_id == review_links.c.board_id
                ).join(images, images.c.id == board_images.c.image_id)
            )
            .where(
                review_links.c.id == link_id,
                review_links.c.revoked_at.is_(None),
                sa.or_(review_links.c.expires_at.is_(None), review_links.c.expires_at > now),
                board_images.c.image_id == image_id,
                images.c.status == ImageStatus.ARCHIVED.value,
            )
        )
        with self.engine.connect() as conn:
            allowed = conn.execute(query).scalar_one_or_none()
        return allowed is not None, bool(allowed)

    def reviewer_notes(
        self, token_sha256: str, now: float, reviewer: str
    ) -> list[ReviewNote] | None:
        """What `reviewer` said through the live link; None when no live link has it."""
        query = (
            sa.select(*NOTE_COLUMNS)
            .select_from(
                review_links.outerjoin(
                    review_notes,
                    sa.and_(
                        review_notes.c.link_id == review_links.c.id,
                        review_notes.c.reviewer == reviewer,
                    ),
                )
            )
            .where(live_link(token_sha256, now))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return [_note(row) for row in rows if row.image_id is not None]

    def review_change(
        self,
        token_sha256: str,
        now: float,
        *,
        reviewer: str,
        image_id: int,
        changes: dict[str, Any],
        per_minute: int,
    ) -> Literal["saved", "closed", "limited", "not_on_board"]:
        """Save a reviewer's vote or comment (`changes`) through the live link.

        The link's count of changes this minute is checked and moved in one statement
        (the row's lock on PostgreSQL, the write lock on SQLite), so reviewers changing
        at once can never pass the limit between them.
        """
        window_over = review_links.c.window_start <= now - RATE_WINDOW
        counted = (
            review_links.update()
            .where(
                live_link(token_sha256, now),
                sa.or_(window_over, review_links.c.window_changes < per_minute),
            )
            .values(
                window_start=sa.case((window_over, now), else_=review_links.c.window_start),
                window_changes=sa.case((window_over, 1), else_=review_links.c.window_changes + 1),
            )
            .returning(review_links.c.id, review_links.c.board_id)
        )
        try:
            with self.engine.begin() as conn:
                counted_row = conn.execute(counted).first()
                if counted_row is None:
                    live = conn.execute(
                        sa.select(review_links.c.id).where(live_link(token_sha256, now))
                    ).first()
                    return "limited" if live is not None else "closed"
                link_id, board_id = counted_row
                on_board = conn.execute(
                    sa.select(board_images.c.image_id)
                    .select_from(board_images.join(images, images.c.id == board_images.c.image_id))
                    .where(
                        board_images.c.board_id == board_id,
                        board_images.c.image_id == image_id,
                        images.c.status == ImageStatus.ARCHIVED.value,
                    )
                ).first()
                if on_board is None:
                    raise _NotOnBoard  # rolls the count back too: nothing was changed
                insert: Any = self._upsert(review_notes)
                note = insert.values(
                    link_id=link_id,
                    reviewer=reviewer,
                    image_id=image_id,
                    vote=None,
                    comment="",
                    updated_at=now,
                ).values(**changes)
                conn.execute(
                    note.on_conflict_do_update(
                        index_elements=[
                            review_notes.c.link_id,
                            review_notes.c.reviewer,
                            review_notes.c.image_id,
                        ],
                        set_={**changes, "updated_at": now},
                    )
                )
        except _NotOnBoard:
            return "not_on_board"
        return "saved"

    def notes_on(self, image_ids: Sequence[int], owner_sub: str | None) -> list[ReviewNote]:
        """Votes and comments on `image_ids` through the links of `owner_sub`'s boards,
        newest first; notes with neither a vote nor a comment are left out."""
        # The images' notes are found through their index, then kept if their link is
        # one of the owner's (a planner starting from the owner's links reads them all).
        owners_links = (
            sa.select(review_links.c.id)
            .join(boards, boards.c.id == review_links.c.board_id)
            .where(_owned_by(boards.c.owner_sub, owner_sub))
        )
        query = (
            sa.select(*NOTE_COLUMNS)
            .select_from(
                review_notes.join(review_links, review_links.c.id == review_notes.c.link_id)
            )
            .where(
                review_notes.c.image_id.in_(list(image_ids)),
                review_notes.c.link_id.in_(owners_links),
                sa.or_(review_notes.c.vote.is_not(None), review_notes.c.comment != ""),
            )
            .order_by(review_notes.c.updated_at.desc(), review_notes.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_note(row) for row in conn.execute(query)]

    def review_activity(self, board_id: int) -> str:
        """A mark that moves whenever a vote or comment arrives on the board, or a link is
        revoked: each change moves its link's (window_start, window_changes), so reading
        the board's few links answers it, however many notes they hold."""
        query = (
            sa.select(
                review_links.c.id,
                review_links.c.window_start,
                review_links.c.window_changes,
                review_links.c.revoked_at,
            )
            .where(review_links.c.board_id == board_id)
            .order_by(review_links.c.id)
        )
        with self.engine.connect() as conn:
            return ";".join(",".join(map(repr, row)) for row in conn.execute(query))

    # Internals --------------------------------------------------------------------

    def _upsert(self, table: sa.Table) -> Any:
        """An INSERT that can say ON CONFLICT, in this database's dialect. PostgreSQL's is
        imported only by a studio on PostgreSQL (about 2 MB a SQLite install never needs)."""
        if self._sqlite:
            return sqlite.insert(table)
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)

    # Request slots ----------------------------------------------------------------

    def reserve_request_slot(self, key_id: str, interval: float) -> float:
        """Take the next request slot of key `key_id`; return the seconds until it comes.

        Slots are `interval` apart for every process sharing this database. One upsert
        reads and moves the key's next free slot: PostgreSQL holds the row's lock from the
        read to the write, and a SQLite write statement takes the database's write lock
        before it reads, so two processes never get the same slot. Time is the database's
        clock, the one every process sharing it agrees on.
        """
        if self._sqlite:
            # Read when the statement runs, after it has the write lock: a time taken
            # before waiting for the lock would hand out a slot already past.
            now: sa.ColumnElement[float] = (
                sa.func.julianday("now") - UNIX_EPOCH_JULIAN_DAY
            ) * SECONDS_PER_DAY
        else:
            # Seconds with a fraction (SQLAlchemy types an extract as a whole number).
            now = sa.type_coerce(sa.extract("epoch", sa.func.clock_timestamp()), sa.Float)
        insert = self._upsert(request_slots)
        slot = sa.case((request_slots.c.next_free > now, request_slots.c.next_free), else_=now)
        statement = (
            insert.values(key_id=key_id, next_free=now + interval)
            .on_conflict_do_update(
                index_elements=[request_slots.c.key_id], set_={"next_free": slot + interval}
            )
            .returning(request_slots.c.next_free - interval - now)
        )
        with self.engine.begin() as conn:
            wait = conn.execute(statement).scalar_one()
        return max(0.0, float(wait))

    def _transition(
        self, job_id: str, event: JobEvent, owner: str | None, changes: dict[str, Any]
    ) -> bool:
        """Apply `event` if the job is in a state the transition table allows it from."""
        return self._update_job(
            job_id,
            owner,
            changes | {"status": target(event).value},
            only_status=sources(event),
        )

    def _update_job(
        self,
        job_id: str,
        owner: str | None,
        changes: dict[str, Any],
        *,
        only_status: Sequence[JobStatus],
    ) -> bool:
        query = jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(values(only_status)))
        if owner is not None:
            query = query.where(jobs.c.lease_owner == owner)
        with self.engine.begin() as conn:
            result = conn.execute(query.values(updated_at=time.time(), **changes))
        return result.rowcount == 1

    def _images(
        self, condition: sa.ColumnElement[bool], viewer_sub: str | None = None
    ) -> list[ImageRecord]:
        query = (
            sa.select(images, _favourite_of(viewer_sub))
            .where(condition)
            .order_by(images.c.position)
        )
        with self.engine.connect() as conn:
            return [_image(row[:-1], favourite=row[-1]) for row in conn.execute(query)]

    def _gallery_source(self, where: GalleryFilter) -> sa.FromClause:
        """Images alone unless the filter reads the job: every image has its job."""
        if where.mode is not None or (search_text(where.search) and not self._sqlite):
            return images.join(jobs)
        return images

    def _gallery_condition(self, where: GalleryFilter) -> sa.ColumnElement[bool]:
        conditions: list[sa.ColumnElement[bool]] = [images.c.status == ImageStatus.ARCHIVED.value]
        if search_text(where.search):
            conditions.append(self._prompt_contains(search_text(where.search)))
        if where.mode is not None:
            conditions.append(jobs.c.mode == where.mode.value)
        if where.favourites_only:
            conditions.append(_favourite_of(where.viewer_sub))
        if where.mine:
            conditions.append(_owned_by(images.c.owner_sub, where.owner_sub))
        if where.board_id is not None:
            on_board = sa.select(board_images.c.image_id).where(
                board_images.c.board_id == where.board_id
            )
            conditions.append(images.c.id.in_(on_board))
        return sa.and_(*conditions)

    def _prompt_contains(self, text: str) -> sa.ColumnElement[bool]:
        """Images whose prompt contains `text`, any case, found through the search index."""
        pattern = "%" + _escape_like(text) + "%"
        if not self._sqlite:
            return jobs.c.prompt.ilike(pattern, escape="\\")  # the pg_trgm index serves ILIKE
        if len(text) >= TRIGRAM:
            # A phrase of trigrams matches exactly the prompts that contain `text`.
            phrase = '"' + text.replace('"', '""') + '"'
            hits = sa.select(image_search.c.rowid).where(image_search.c.prompt.match(phrase))
        else:
            # Too short for a trigram: the index cannot narrow it, so read its prompts.
            hits = sa.select(image_search.c.rowid).where(
                image_search.c.prompt.like(pattern, escape="\\")
            )
        return images.c.id.in_(hits)

    def _gallery_query(
        self,
        source: sa.FromClause,
        condition: sa.ColumnElement[bool],
        where: GalleryFilter,
        *,
        limit: int,
        offset: int,
    ) -> list[GalleryItem]:
        # The page's ids come from the gallery index alone, so rows skipped by the offset
        # cost an index step each; only the rows shown are read in full with their jobs.
        page = (
            sa.select(images.c.id)
            .select_from(source)
            .where(condition)
            .order_by(*GALLERY_ORDER)
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
        query = (
            sa.select(images, jobs, _favourite_of(where.viewer_sub))
            .select_from(
                images.join(page, page.c.id == images.c.id).join(jobs, jobs.c.id == images.c.job_id)
            )
            .order_by(*GALLERY_ORDER)
        )
        with self.engine.connect() as conn:
            return [_gallery_item(row) for row in conn.execute(query)]


def _owned_by(column: sa.Column[Any], owner_sub: str | None) -> sa.ColumnElement[bool]:
    return column.is_(None) if owner_sub is None else column == owner_sub


def _favourite_of(viewer_sub: str | None) -> sa.Exists:
    """Whether the image is one of `viewer_sub`'s favourites (None: nobody's, see favourites)."""
    return sa.exists().where(
        favourites.c.image_id == images.c.id, favourites.c.owner_sub == (viewer_sub or "")
    )


def _gallery_item(row: Sequence[Any]) -> GalleryItem:
    """A row of images, jobs and _favourite_of, in that order."""
    image_columns = len(images.columns)
    return GalleryItem(
        image=_image(row[:image_columns], favourite=row[-1]), job=_job(row[image_columns:-1])
    )


# A ReviewNote's fields, in its order: what reads of notes select.
NOTE_COLUMNS = (
    review_notes.c.link_id,
    review_links.c.label,
    review_notes.c.reviewer,
    review_notes.c.image_id,
    review_notes.c.vote,
    review_notes.c.comment,
    review_notes.c.updated_at,
)


class _NotOnBoard(Exception):
    """Raised inside a review change to roll it back: the image is not on the board."""


def live_link(token_sha256: str, now: float) -> sa.ColumnElement[bool]:
    """The review link with this token hash, unless it was revoked or has expired."""
    return sa.and_(
        review_links.c.token_sha256 == token_sha256,
        review_links.c.revoked_at.is_(None),
        sa.or_(review_links.c.expires_at.is_(None), review_links.c.expires_at > now),
    )


def _billed() -> sa.ColumnElement[bool]:
    """Jobs FoxAPI accepted, or may have: a task id, or an outcome nobody knows."""
    return sa.and_(
        jobs.c.backend != "demo",
        sa.or_(jobs.c.task_id.is_not(None), jobs.c.status == JobStatus.UNKNOWN.value),
    )


def _spent(conn: sa.Connection, since: float, *where: sa.ColumnElement[bool]) -> int:
    """Images billed since `since`, and those being sent right now (they may be billed)."""
    being_sent = sa.and_(
        jobs.c.backend != "demo",
        jobs.c.task_id.is_(None),
        jobs.c.status == JobStatus.SUBMITTING.value,
    )
    query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.num_outputs), 0)).where(
        jobs.c.created_at >= since, sa.or_(_billed(), being_sent), *where
    )
    return int(conn.execute(query).scalar_one())


def _delete_images(conn: sa.Connection, which: sa.ColumnElement[bool]) -> list[str]:
    """Delete the images `which` selects; return their files no remaining image uses."""
    files = conn.execute(sa.select(images.c.file_path, images.c.thumb_path).where(which)).all()
    going = sa.select(images.c.id).where(which)
    conn.execute(board_images.delete().where(board_images.c.image_id.in_(going)))
    conn.execute(review_notes.delete().where(review_notes.c.image_id.in_(going)))
    conn.execute(favourites.delete().where(favourites.c.image_id.in_(going)))
    conn.execute(images.delete().where(which))
    keys = {key for row in files for key in row if key}
    if not keys:
        return []
    # Files are content-addressed: the same picture made twice shares them.
    still_used = conn.execute(
        sa.select(images.c.file_path, images.c.thumb_path).where(
            sa.or_(images.c.file_path.in_(keys), images.c.thumb_path.in_(keys))
        )
    ).all()
    return sorted(keys - {key for row in still_used for key in row if key})


def _forget_unused_input_assets(conn: sa.Connection, asset_ids: Iterable[int]) -> list[str]:
    """Delete the assets among `asset_ids` that no job's inputs name; return their files."""
    unused = [
        asset_id
        for asset_id in set(asset_ids)
        if conn.execute(
            sa.select(jobs.c.id).where(jobs.c.input_sources.like(f"%,a{int(asset_id)},%")).limit(1)
        ).first()
        is None
    ]
    if not unused:
        return []
    which = input_assets.c.id.in_(unused)
    files = sa.select(input_assets.c.file_path, input_assets.c.thumb_path).where(which)
    keys = sorted(key for row in conn.execute(files) for key in row)
    conn.execute(input_assets.delete().where(which))
    return keys


def _task_values(task: Task) -> dict[str, Any]:
    changes: dict[str, Any] = {"task_id": task.id, "progress": task.progress}
    if task.estimated_time is not None:
        changes["estimated_time"] = task.estimated_time
    if task.credits_reserved is not None:
        changes["credits_reserved"] = task.credits_reserved
    return changes


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _id_list(ids: Sequence[int]) -> str | None:
    return "," + ",".join(map(str, ids)) + "," if ids else None


def _sources_text(sources: Sequence[InputSource]) -> str | None:
    tokens = [_SOURCE_LETTERS[source.kind] + str(source.id or "") for source in sources]
    return "," + ",".join(tokens) + "," if tokens else None


def _sources(text: str | None) -> tuple[InputSource, ...]:
    return tuple(
        InputSource(_SOURCE_KINDS[token[0]], int(token[1:]) if token[1:] else None)
        for token in (text or "").split(",")
        if token
    )


def _input_asset(row: Any) -> InputAsset:
    return InputAsset(**dict(row._mapping))


def _job(row: Sequence[Any]) -> JobRecord:
    values = dict(zip(jobs.columns.keys(), row, strict=True))
    return JobRecord(
        id=values["id"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        request=GenerationRequest.from_json(values["request_json"]),
        backend=values["backend"],
        key_id=values["key_id"],
        task_id=values["task_id"],
        status=JobStatus(values["status"]),
        progress=values["progress"],
        error_code=values["error_code"],
        error_message=values["error_message"],
        credits_reserved=values["credits_reserved"],
        estimated_time=values["estimated_time"],
        submitted_at=values["submitted_at"],
        finished_at=values["finished_at"],
        retry_of=values["retry_of"],
        origin=JobOrigin(
            values["batch_id"],
            tuple(int(part) for part in (values["parent_image_ids"] or "").split(",") if part),
            _sources(values["input_sources"]),
        ),
        owner_sub=values["owner_sub"],
        owner_email=values["owner_email"],
    )


def _image(row: Sequence[Any], *, favourite: bool = False) -> ImageRecord:
    values = dict(zip(images.columns.keys(), row, strict=True))
    return ImageRecord(
        id=values["id"],
        job_id=values["job_id"],
        position=values["position"],
        status=ImageStatus(values["status"]),
        source_url=values["source_url"],
        created_at=values["created_at"],
        archived_at=values["archived_at"],
        file_path=values["file_path"],
        thumb_path=values["thumb_path"],
        sha256=values["sha256"],
        width=values["width"],
        height=values["height"],
        format=values["format"],
        size_bytes=values["size_bytes"],
        favourite=bool(favourite),
    )


def _note(row: Sequence[Any]) -> ReviewNote:
    """A note from a row of NOTE_COLUMNS (a vote is one of VOTE_KINDS, as written)."""
    return ReviewNote(*row)
