"""Who may enter, who is an admin, and how limits and what is left are said."""

from __future__ import annotations

from datetime import datetime

from studio.people import LOCAL, Allowance, People, Person, Quota, refusal, viewer_person
from studio.settings import Settings


def people(**settings: object) -> People:
    return People.from_settings(Settings.model_construct(**settings))


def test_everyone_signed_in_enters_without_a_list() -> None:
    assert people().admits("anyone@gmail.com")


def test_the_list_admits_addresses_and_whole_domains_in_any_case() -> None:
    rules = people(studio_allowed_emails=" alice@example.com , @design.example ")
    assert rules.admits("Alice@Example.com")
    assert rules.admits("bob@design.example")
    assert not rules.admits("eve@elsewhere.org")
    assert not rules.admits("eve@notdesign.example")
    assert not rules.admits(None)


def test_admins_are_named_by_email() -> None:
    rules = people(studio_admins="boss@example.com")
    assert rules.person("1", "Boss@example.com", "Boss").admin
    assert not rules.person("2", "alice@example.com", "Alice").admin


def test_the_local_person_owns_nothing_and_may_do_everything() -> None:
    assert LOCAL.sub is None and LOCAL.admin and not LOCAL.signed_in
    assert LOCAL.viewer == "local"


def test_a_links_viewer_names_the_person_and_whether_they_are_an_admin() -> None:
    alice = Person("sub-alice", "alice@example.com", "Alice")
    boss = Person("sub-boss", "boss@example.com", "Boss", admin=True)
    assert viewer_person(alice.viewer) == Person("sub-alice", None, None)
    assert viewer_person(boss.viewer) == Person("sub-boss", None, None, admin=True)
    assert viewer_person(LOCAL.viewer) is LOCAL
    # A subject that looks like a role is still its own person's, never an admin's.
    tricky = Person("admin:bob", None, None)
    assert viewer_person(tricky.viewer) == tricky
    for other in ("review:3", "sub-alice", "", "root:x", ":x"):
        assert viewer_person(other) is None, other


def test_a_day_starts_at_midnight_and_a_month_on_the_first() -> None:
    settings = Settings.model_construct(
        studio_daily_image_limit=40, studio_monthly_image_limit=1000
    )
    quota = Quota.now(settings, datetime(2026, 12, 17, 15, 30).astimezone())
    assert datetime.fromtimestamp(quota.day_start) == datetime(2026, 12, 17)
    assert datetime.fromtimestamp(quota.month_start) == datetime(2026, 12, 1)
    assert (quota.daily_limit, quota.monthly_limit) == (40, 1000)


def test_what_is_left_is_said_the_way_the_form_shows_it() -> None:
    assert Allowance(12, 40, None, 0).words() == "12 of 40 images left today"
    assert Allowance(None, 0, None, 0).words() is None
    assert Allowance(12, 40, 5, 1000).left == 5
    assert refusal(left=2, limit=40, asked=3, period="day") == (
        "2 of 40 images left today; this request is for 3."
    )
