"""The jobs domain's tables: jobs, their leases, and the request slots of each key.

Engines work only on jobs they hold a lease on, and recording a result is idempotent,
so no job is polled by two engines or archived twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from studio.db import mappers
from studio.db.database import DomainStore
from studio.db.queries import (
    escape_like,
    images_where,
)
from studio.db.schema import (
    images,
    jobs,
    request_slots,
)
from studio.people import Quota, SpendLimitReached, refusal
from studio.people.access import owned_by
from studio.people.spending import spent
from studio.records import (
    ArchivedFile,
    ImageRecord,
    JobOrigin,
    JobRecord,
)
from studio.request import GenerationRequest
from studio.search import search_text
from studio.states import IN_FLIGHT, ImageStatus, JobEvent, JobStatus, sources, target, values
from studio.task import Task

UNIX_EPOCH_JULIAN_DAY = 2440587.5  # SQLite's julianday() of 1970-01-01 00:00 UTC
SECONDS_PER_DAY = 86400.0

# PostgreSQL advisory lock keys that serialise spending: one for the whole studio's
# month, and one per person (a hash of the owner in this key space).
MONTH_LOCK_KEY = 0x5374_7564_696F_4D6F  # "StudioMo"
PERSON_LOCK_SPACE = "studio-spend:"


class JobStore(DomainStore):
    """Jobs: recorded before they are sent, moved through their states, read back."""

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
        job_id: str | None = None,
    ) -> JobRecord:
        """Record a job about to be sent, owned by `owner_sub`, under `job_id` if given.

        With a `quota`, the job's images must fit in what its owner may still spend today
        and the studio this month, counted in the same transaction that records it, so
        servers, tabs and double clicks sending at once cannot overrun a limit between
        them. Raises SpendLimitReached (and records nothing) when it does not fit.
        """
        now = time.time()
        job_id = job_id or uuid.uuid4().hex
        with self.engine.begin() as conn:
            if quota is not None and not self._db.sqlite:
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
                    parent_image_ids=mappers.id_list(origin.parent_image_ids),
                    input_sources=mappers.sources_text(origin.inputs),
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
            used = spent(conn, quota.day_start, owned_by(jobs.c.owner_sub, owner_sub))
            if used > quota.daily_limit:
                left = max(0, quota.daily_limit - (used - asked))
                raise SpendLimitReached(
                    refusal(left=left, limit=quota.daily_limit, asked=asked, period="day")
                )
        if quota.monthly_limit:
            used = spent(conn, quota.month_start)
            if used > quota.monthly_limit:
                left = max(0, quota.monthly_limit - (used - asked))
                raise SpendLimitReached(
                    refusal(left=left, limit=quota.monthly_limit, asked=asked, period="month")
                )

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
        return mappers.job(row)

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
            query = query.where(owned_by(jobs.c.owner_sub, owner_sub))
        if statuses is not None:
            in_statuses = jobs.c.status.in_(values(statuses))
            # Asked-for statuses (in flight, needing attention) hold few jobs next to the
            # finished ones. Told so, SQLite keeps to the status index even after an ANALYZE,
            # whose statistics (nearly every job one status) would have it read every job in
            # date order instead; an index on (status, created_at) does not change that.
            query = query.where(sa.func.unlikely(in_statuses) if self._db.sqlite else in_statuses)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [mappers.job(row) for row in conn.execute(query)]

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

    def batch_jobs(self, batch_id: str) -> list[JobRecord]:
        """A sweep's jobs in the order they were made: row by row of its grid."""
        query = sa.select(jobs).where(jobs.c.batch_id == batch_id).order_by(jobs.c.created_at)
        with self.engine.connect() as conn:
            return [mappers.job(row) for row in conn.execute(query)]

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
            query = query.where(owned_by(jobs.c.owner_sub, owner_sub))
        if search_text(search):
            pattern = "%" + escape_like(search_text(search)) + "%"
            query = query.where(jobs.c.prompt.ilike(pattern, escape="\\"))
        with self.engine.connect() as conn:
            return list(conn.execute(query.limit(limit)).scalars())

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


class WorkStore(DomainStore):
    """The engines' side: leases on jobs, each key's request slots, and the images they archive."""

    def images_of(self, job_id: str) -> list[ImageRecord]:
        """The job's images, in order, whatever became of each."""
        return images_where(self.engine, images.c.job_id == job_id)

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
        return [mappers.job(row) for row in rows]

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

    def reserve_request_slot(self, key_id: str, interval: float) -> float:
        """Take the next request slot of key `key_id`; return the seconds until it comes.

        Slots are `interval` apart for every process sharing this database. One upsert
        reads and moves the key's next free slot: PostgreSQL holds the row's lock from the
        read to the write, and a SQLite write statement takes the database's write lock
        before it reads, so two processes never get the same slot. Time is the database's
        clock, the one every process sharing it agrees on.
        """
        if self._db.sqlite:
            # Read when the statement runs, after it has the write lock: a time taken
            # before waiting for the lock would hand out a slot already past.
            now: sa.ColumnElement[float] = (
                sa.func.julianday("now") - UNIX_EPOCH_JULIAN_DAY
            ) * SECONDS_PER_DAY
        else:
            # Seconds with a fraction (SQLAlchemy types an extract as a whole number).
            now = sa.type_coerce(sa.extract("epoch", sa.func.clock_timestamp()), sa.Float)
        insert = self._db.upsert(request_slots)
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

    def pending_images(self, job_id: str) -> list[ImageRecord]:
        return images_where(
            self.engine,
            sa.and_(images.c.job_id == job_id, images.c.status == ImageStatus.PENDING.value),
        )

    def archive_image(self, image_id: int, archived: ArchivedFile) -> bool:
        """Record a downloaded image. Idempotent: False if it was archived already."""
        self._db.changed()
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
        self._db.changed()
        with self.engine.begin() as conn:
            conn.execute(
                images.update()
                .where(images.c.id == image_id, images.c.status == ImageStatus.PENDING.value)
                .values(status=ImageStatus.EXPIRED.value)
            )


def _task_values(task: Task) -> dict[str, Any]:
    changes: dict[str, Any] = {"task_id": task.id, "progress": task.progress}
    if task.estimated_time is not None:
        changes["estimated_time"] = task.estimated_time
    if task.credits_reserved is not None:
        changes["credits_reserved"] = task.credits_reserved
    return changes
