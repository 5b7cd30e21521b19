"""The gallery's tables: images as the gallery lists them, favourites, styles and the
uploads edits were made from (input assets).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from studio.db import mappers
from studio.db.database import Database, DomainStore
from studio.db.queries import (
    escape_like,
    favourite_of,
    forget_unused_input_assets,
    images_where,
)
from studio.db.schema import (
    GALLERY_ORDER,
    board_images,
    boards,
    favourites,
    image_search,
    images,
    input_assets,
    jobs,
    styles,
)
from studio.gallery.trash_store import TrashStore
from studio.people.access import owned_by
from studio.records import (
    ArchivedFile,
    GalleryFilter,
    GalleryItem,
    ImageRecord,
    InputAsset,
    JobRecord,
    Style,
)
from studio.search import search_text
from studio.states import ImageStatus

TRIGRAM = 3  # characters; shorter searches cannot use a trigram index
COUNT_TTL = 2.0  # seconds a gallery count is trusted when no change was seen here
MAX_KEPT_PAGES = 256  # gallery pages whose ids are kept at once


class GalleryStore(DomainStore):
    """Images, favourites, styles and input assets."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._counts: dict[GalleryFilter, tuple[int, float]] = {}
        # The ids on each page asked for lately, kept and dropped like the counts.
        self._pages: dict[tuple[GalleryFilter, int, int], tuple[list[int], float]] = {}
        self._kept_changes = db.changes  # the database's changes when these were kept
        self._counts_lock = threading.Lock()
        self.trash = TrashStore(db)

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
        insert: Any = self._db.upsert(input_assets)
        with self.engine.begin() as conn:
            conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
            row = conn.execute(
                sa.select(input_assets).where(input_assets.c.sha256 == archived.sha256)
            ).one()
        return mappers.input_asset(row)

    def input_assets(self, asset_ids: Iterable[int]) -> dict[int, InputAsset]:
        """The input assets still on record among `asset_ids`, by id."""
        wanted = sorted(set(asset_ids))
        if not wanted:
            return {}
        query = sa.select(input_assets).where(input_assets.c.id.in_(wanted))
        with self.engine.connect() as conn:
            return {row.id: mappers.input_asset(row) for row in conn.execute(query)}

    def jobs_using_input_asset(self, asset_id: int) -> list[JobRecord]:
        query = sa.select(jobs).where(jobs.c.input_sources.like(f"%,a{int(asset_id)},%"))
        with self.engine.connect() as conn:
            return [mappers.job(row) for row in conn.execute(query)]

    def forget_unused_input_assets(self, asset_ids: Iterable[int]) -> list[str]:
        """Forget those of `asset_ids` no job uses any more; return their files."""
        with self.engine.begin() as conn:
            return forget_unused_input_assets(conn, asset_ids)

    def image(self, image_id: int, *, viewer_sub: str | None = None) -> GalleryItem | None:
        """The image with its job, marked with `viewer_sub`'s favourites; None if gone (or
        in the Trash: see studio.gallery.trash)."""
        where = GalleryFilter(viewer_sub=viewer_sub)
        here = sa.and_(images.c.id == image_id, images.c.status != ImageStatus.TRASHED.value)
        items = self._gallery_query(images, here, where, limit=1, offset=0)
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
            generation = self._kept()
            cached = self._pages.get(key)
        if cached is not None and now - cached[1] < COUNT_TTL:
            # Still archived: another server may have moved one to the Trash meanwhile.
            kept = sa.and_(
                images.c.id.in_(cached[0]), images.c.status == ImageStatus.ARCHIVED.value
            )
            return self._gallery_query(images, kept, where, limit=limit, offset=0)
        items = self._gallery_query(
            self._gallery_source(where),
            self._gallery_condition(where),
            where,
            limit=limit,
            offset=offset,
        )
        with self._counts_lock:
            if generation == self._db.changes:
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
            generation = self._kept()
            cached = self._counts.get(where)
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
            if generation == self._db.changes:
                self._counts[where] = (count, now)
        return count

    def _kept(self) -> int:
        """The database's change count, once what was kept before its last change is
        forgotten. Called with _counts_lock held."""
        changes = self._db.changes
        if changes != self._kept_changes:
            self._counts.clear()
            self._pages.clear()
            self._kept_changes = changes
        return changes

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
        self._db.changed()
        mark = {"owner_sub": owner_sub or "", "image_id": image_id}
        with self.engine.begin() as conn:
            conn.execute(favourites.delete().filter_by(**mark))
            if favourite:
                conn.execute(favourites.insert().values(**mark))

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
            .where(sa.or_(owned_by(styles.c.owner_sub, owner_sub), styles.c.shared.is_(True)))
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
                    styles.c.id == style_id, owned_by(styles.c.owner_sub, owner_sub)
                )
            )
        return result.rowcount == 1

    def _gallery_source(self, where: GalleryFilter) -> sa.FromClause:
        """Images alone unless the filter reads the job: every image has its job."""
        if where.mode is not None or (search_text(where.search) and not self._db.sqlite):
            return images.join(jobs)
        return images

    def _gallery_condition(self, where: GalleryFilter) -> sa.ColumnElement[bool]:
        conditions: list[sa.ColumnElement[bool]] = [images.c.status == ImageStatus.ARCHIVED.value]
        if search_text(where.search):
            conditions.append(self._prompt_contains(search_text(where.search)))
        if where.mode is not None:
            conditions.append(jobs.c.mode == where.mode.value)
        if where.favourites_only:
            conditions.append(favourite_of(where.viewer_sub))
        if where.mine:
            conditions.append(owned_by(images.c.owner_sub, where.owner_sub))
        if where.board_id is not None:
            on_board = sa.select(board_images.c.image_id).where(
                board_images.c.board_id == where.board_id
            )
            if where.own_board_only:
                # Joined here rather than asked of the boards: one query, one rule.
                on_board = on_board.join(boards, boards.c.id == board_images.c.board_id).where(
                    owned_by(boards.c.owner_sub, where.viewer_sub)
                )
            conditions.append(images.c.id.in_(on_board))
        return sa.and_(*conditions)

    def _prompt_contains(self, text: str) -> sa.ColumnElement[bool]:
        """Images whose prompt contains `text`, any case, found through the search index."""
        pattern = "%" + escape_like(text) + "%"
        if not self._db.sqlite:
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
            sa.select(images, jobs, favourite_of(where.viewer_sub))
            .select_from(
                images.join(page, page.c.id == images.c.id).join(jobs, jobs.c.id == images.c.job_id)
            )
            .order_by(*GALLERY_ORDER)
        )
        with self.engine.connect() as conn:
            return [mappers.gallery_item(row) for row in conn.execute(query)]

    def children(self, image_id: int) -> list[JobRecord]:
        """Edits made from `image_id`, oldest first."""
        query = (
            sa.select(jobs)
            .where(jobs.c.parent_image_ids.like(f"%,{int(image_id)},%"))
            .order_by(jobs.c.created_at)
        )
        with self.engine.connect() as conn:
            return [mappers.job(row) for row in conn.execute(query)]

    def job_images(self, job_id: str, *, viewer_sub: str | None = None) -> list[ImageRecord]:
        """The job's images, marked with `viewer_sub`'s favourites."""
        return images_where(self.engine, images.c.job_id == job_id, viewer_sub)
