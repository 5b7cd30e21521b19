"""What counts as spent: the jobs FoxAPI billed, or may have, summed in SQL.

The people's usage reads it, and the jobs store checks a new job against it in the
same transaction that records the job. It counts jobs, not the images kept: an image in
the Trash, or deleted for good, was billed all the same and still counts.
"""

from __future__ import annotations

import sqlalchemy as sa

from studio.db.schema import jobs
from studio.states import JobStatus


def billed() -> sa.ColumnElement[bool]:
    """Jobs FoxAPI accepted, or may have: a task id, or an outcome nobody knows."""
    return sa.and_(
        jobs.c.backend != "demo",
        sa.or_(jobs.c.task_id.is_not(None), jobs.c.status == JobStatus.UNKNOWN.value),
    )


def spent(conn: sa.Connection, since: float, *where: sa.ColumnElement[bool]) -> int:
    """Images billed since `since`, and those being sent right now (they may be billed)."""
    being_sent = sa.and_(
        jobs.c.backend != "demo",
        jobs.c.task_id.is_(None),
        jobs.c.status == JobStatus.SUBMITTING.value,
    )
    query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.num_outputs), 0)).where(
        jobs.c.created_at >= since, sa.or_(billed(), being_sent), *where
    )
    return int(conn.execute(query).scalar_one())
