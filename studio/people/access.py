"""Who may see and change what: the visibility rules, in one place.

Every domain asks here: the services through an Access bound to the person asking, the
stores through `owned_by` and GalleryFilter's fields an Access fills in (`visible`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from studio.people import Person
from studio.records import GalleryFilter, JobRecord


def owned_by(column: sa.Column[Any], owner_sub: str | None) -> sa.ColumnElement[bool]:
    """Rows of `owner_sub` (None: those that belong to nobody, as before sign-in)."""
    return column.is_(None) if owner_sub is None else column == owner_sub


@dataclass(frozen=True)
class Access:
    """What `person` may see and change, in a studio whose galleries may be private."""

    person: Person
    private_galleries: bool

    def may_see(self, job: JobRecord) -> bool:
        """Everyone's work is visible, unless galleries are private: then one's own."""
        if self.person.admin or job.owner_sub == self.person.sub:
            return True
        return not self.private_galleries

    def may_change(self, job: JobRecord) -> bool:
        """Only the owner or an admin deletes; jobs of nobody are the admins' alone."""
        person = self.person
        return person.admin or (job.owner_sub is not None and job.owner_sub == person.sub)

    def may_see_board(self, owner_sub: str | None) -> bool:
        """A board is its owner's alone (an admin sees all)."""
        return self.person.admin or owner_sub == self.person.sub

    @property
    def own_only(self) -> bool:
        """Whether lists of jobs (in flight, needing attention) show this person's alone.

        The local person of a studio without sign-in sees every job, as always.
        """
        return self.person.signed_in

    @property
    def sees_everyone(self) -> bool:
        """Whether the gallery offers Everyone beside Mine to this person."""
        return self.person.admin or not self.private_galleries

    def visible(self, where: GalleryFilter) -> GalleryFilter:
        """`where` narrowed to what this person may see: their own images alone when they
        do not see everyone's, and a board only if it is theirs (the store joins it)."""
        mine = where.mine or not self.sees_everyone
        owner_sub = self.person.sub if mine else None
        return replace(
            where,
            mine=mine,
            owner_sub=owner_sub,
            viewer_sub=self.person.sub,
            own_board_only=not self.person.admin,
        )
