"""studio.people.service against its store on SQLite and PostgreSQL, with no engine:
what each person may still spend, and the usage only admins see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from studio.people import NotAllowed, People, Person, SpendLimitReached
from studio.people.access import Access
from studio.people.service import PeopleService
from studio.settings import Settings
from studio.states import JobStatus
from studio.store import Store
from tests.app_support import ALICE, BOB, seed_job

ALICE_PERSON = Person(ALICE["sub"], ALICE["email"], ALICE["name"])
BOB_PERSON = Person(BOB["sub"], BOB["email"], BOB["name"])
ADMIN = Person("sub-boss", "boss@example.com", "Boss", admin=True)
FOXAPI_KEY = "f" * 64  # any key id but the demo backend's: its jobs are billed


@pytest.fixture
def opened(database_at_head: str) -> Iterator[Store]:
    store = Store(database_at_head)
    yield store
    store.close()


def people_of(store: Store, person: Person, **settings: int) -> PeopleService:
    configured = Settings(**settings)  # type: ignore[arg-type]
    policy = People.from_settings(configured)
    access = Access(person, private_galleries=policy.private_galleries)
    return PeopleService(configured, store.people, access, policy)


def billed(store: Store, owner: dict[str, str], images: int) -> None:
    seed_job(store, status=JobStatus.RUNNING, key_id=FOXAPI_KEY, owner=owner, num_outputs=images)


def test_usage_is_for_admins_per_person_per_day(opened: Store) -> None:
    billed(opened, ALICE, 2)
    billed(opened, BOB, 1)
    seed_job(opened, owner=BOB, num_outputs=4)  # the demo backend's: never billed

    with pytest.raises(NotAllowed):
        people_of(opened, BOB_PERSON).usage()
    usage = people_of(opened, ADMIN).usage()
    today = datetime.now().astimezone().date().isoformat()
    assert sorted((row.day, row.person, row.images) for row in usage) == [
        (today, "alice@example.com", 2),
        (today, "bob@example.com", 1),
    ]
    assert people_of(opened, ADMIN).images_billed_this_month() == 3
    assert people_of(opened, BOB_PERSON).images_billed_today() == 1  # his own


def test_what_is_left_today_is_each_persons_own(opened: Store) -> None:
    billed(opened, ALICE, 2)

    alice = people_of(opened, ALICE_PERSON, studio_daily_image_limit=3)
    bob = people_of(opened, BOB_PERSON, studio_daily_image_limit=3)
    assert alice.allowance().left_today == 1
    assert bob.allowance().left_today == 3
    alice.check_allowance(1)
    with pytest.raises(SpendLimitReached, match="1 of 3 images left today"):
        alice.check_allowance(2)
    assert people_of(opened, ALICE_PERSON).allowance().left is None  # no limit set
