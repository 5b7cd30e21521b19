"""People: what a person may still spend, the studio's usage, and warnings about exposure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from studio import exposure
from studio.people import Allowance, NotAllowed, People, Quota, SpendLimitReached, refusal
from studio.people.access import Access
from studio.people.store import PeopleStore
from studio.settings import Settings

log = logging.getLogger(__name__)

USAGE_DAYS = 30


@dataclass(frozen=True)
class UsageDay:
    """Images billed to one person on one day, for the Usage page."""

    day: str  # YYYY-MM-DD in the server's time zone
    person: str  # the email, or "(nobody)" for jobs made before sign-in
    images: int


class PeopleService:
    """What one person may still spend, and the studio's usage (admins only)."""

    def __init__(
        self, settings: Settings, store: PeopleStore, access: Access, policy: People
    ) -> None:
        self.settings = settings
        # Who may enter and who is an admin (for sign-in); the same for every person.
        self.policy = policy
        self._store = store
        self._access = access
        self.person = access.person

    def check_allowance(self, asked: int) -> None:
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

    def subject_of(self, email: str) -> str | None:
        """The subject the person with `email` signed in with when they last made a job."""
        return self._store.owner_sub_for_email(email)

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

    def exposure_warning(self, server_address: str | None) -> str | None:
        """The sidebar's warning when anyone who can reach the server can spend its key."""
        return exposure.exposure_warning(self.settings, server_address)

    def images_billed_today(self) -> int:
        """This person's images billed since midnight (everyone's without sign-in)."""
        midnight = Quota.now(self.settings).day_start
        if not self._access.own_only:
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
