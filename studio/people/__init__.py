"""Who is using the studio: the signed-in person, who may enter, who is an admin, and
what each may still spend.

Sign-in itself is Streamlit's (OpenID Connect, `[auth]` in `.streamlit/secrets.toml`);
this module only decides what a person, once known, may do. Without sign-in there is
one local person, who owns nothing in particular and may do everything, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from studio.settings import Settings

LOCAL_VIEWER = "local"  # who links are signed for when nobody signs in
# A signed-in person's links are signed for "person:<sub>" or "admin:<sub>": the route
# serving a link then knows what its viewer may see without asking anyone. The role ends
# at the first colon, so no subject can pass for another role.
_VIEWER_ROLES = ("person", "admin")


@dataclass(frozen=True)
class Person:
    # The OpenID Connect subject: stable for one account of one provider. None for the
    # local person of a studio without sign-in (whose jobs belong to nobody).
    sub: str | None
    email: str | None
    name: str | None
    admin: bool = False

    @property
    def viewer(self) -> str:
        """What links to images are signed for: who is looking, and whether as an admin."""
        if self.sub is None:
            return LOCAL_VIEWER
        return f"{_VIEWER_ROLES[self.admin]}:{self.sub}"

    @property
    def label(self) -> str:
        """How the person is named to people."""
        return self.name or self.email or "You"

    @property
    def signed_in(self) -> bool:
        return self.sub is not None


LOCAL = Person(sub=None, email=None, name=None, admin=True)


def viewer_person(viewer: str) -> Person | None:
    """The person a link signed for `viewer` was made for; None for any other viewer
    (a reviewer's, say)."""
    if viewer == LOCAL_VIEWER:
        return LOCAL
    role, colon, sub = viewer.partition(":")
    if not colon or role not in _VIEWER_ROLES:
        return None
    return Person(sub=sub, email=None, name=None, admin=role == "admin")


class NotAllowed(Exception):
    """What a person asked for is not theirs to do; the message says so plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SpendLimitReached(Exception):
    """A request would go over a spend limit: refused before anything was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _emails(text: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class People:
    """The rules of `settings` about people."""

    allowed: frozenset[str]  # addresses and "@domain" entries; empty: everyone
    admins: frozenset[str]
    private_galleries: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> People:
        return cls(
            allowed=_emails(settings.studio_allowed_emails),
            admins=_emails(settings.studio_admins),
            private_galleries=settings.studio_private_galleries,
        )

    def admits(self, email: str | None) -> bool:
        """Whether a signed-in person with `email` may enter the studio."""
        if not self.allowed:
            return True
        if not email:
            return False
        address = email.strip().lower()
        domain = "@" + address.rpartition("@")[2]
        return address in self.allowed or domain in self.allowed

    def person(self, sub: str, email: str | None, name: str | None) -> Person:
        """A signed-in person, an admin when their email is in STUDIO_ADMINS."""
        admin = bool(email) and email.strip().lower() in self.admins  # type: ignore[union-attr]
        return Person(sub=sub, email=email, name=name, admin=admin)


@dataclass(frozen=True)
class Quota:
    """The spend limits a new job must fit in, with the moments they count from."""

    daily_limit: int  # images per person since `day_start`; 0 means no limit
    monthly_limit: int  # images for the whole studio since `month_start`; 0 means none
    day_start: float
    month_start: float

    @classmethod
    def now(cls, settings: Settings, at: datetime | None = None) -> Quota:
        """The limits as they stand at `at` (now), days and months in the server's time zone."""
        moment = (at or datetime.now()).astimezone()
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            daily_limit=settings.studio_daily_image_limit,
            monthly_limit=settings.studio_monthly_image_limit,
            day_start=midnight.timestamp(),
            month_start=midnight.replace(day=1).timestamp(),
        )


@dataclass(frozen=True)
class Allowance:
    """What a person may still spend, for the line above the send button."""

    left_today: int | None  # None: no daily limit
    daily_limit: int
    left_this_month: int | None  # the whole studio's; None: no monthly limit
    monthly_limit: int

    @property
    def left(self) -> int | None:
        """The images the next request may ask for, or None without limits."""
        counts = [left for left in (self.left_today, self.left_this_month) if left is not None]
        return min(counts) if counts else None

    def words(self) -> str | None:
        parts = []
        if self.left_today is not None:
            parts.append(f"{self.left_today} of {self.daily_limit} images left today")
        if self.left_this_month is not None:
            parts.append(
                f"{self.left_this_month} of {self.monthly_limit} left this month for the studio"
            )
        return "; ".join(parts) if parts else None


def refusal(*, left: int, limit: int, asked: int, period: str) -> str:
    """The message for a request over a limit: what is left, and what was asked."""
    whose = "images left today" if period == "day" else "images left this month for the studio"
    return f"{left} of {limit} {whose}; this request is for {asked}."
