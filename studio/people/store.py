"""What people spent: images billed, by whom and when, read from the jobs table."""

from __future__ import annotations

import sqlalchemy as sa

from studio.db.database import DomainStore
from studio.db.schema import (
    jobs,
)
from studio.people.access import owned_by
from studio.people.spending import billed, spent


class PeopleStore(DomainStore):
    """Who made which jobs, and what they cost."""

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

    def images_billed_since(self, since: float) -> int:
        """Images of jobs FoxAPI accepted (or may have) since `since`; demo jobs cost nothing."""
        query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.num_outputs), 0)).where(
            jobs.c.created_at >= since, billed()
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def images_spent_by(self, owner_sub: str | None, since: float) -> int:
        """Images `owner_sub` has spent since `since`, counting those being sent now."""
        with self.engine.connect() as conn:
            return spent(conn, since, owned_by(jobs.c.owner_sub, owner_sub))

    def images_spent_since(self, since: float) -> int:
        """Images the whole studio has spent since `since`, counting those being sent now."""
        with self.engine.connect() as conn:
            return spent(conn, since)

    def billed_jobs_since(self, since: float) -> list[tuple[float, str | None, int]]:
        """(created_at, owner email, images) of every billed job since `since`, oldest first."""
        query = (
            sa.select(jobs.c.created_at, jobs.c.owner_email, jobs.c.num_outputs)
            .where(jobs.c.created_at >= since, billed())
            .order_by(jobs.c.created_at)
        )
        with self.engine.connect() as conn:
            return [(row[0], row[1], row[2]) for row in conn.execute(query)]
