"""Queries more than one domain's store needs: favourites, and deleting images and
input assets with every row that names them."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from studio.db import mappers
from studio.db.schema import (
    board_images,
    favourites,
    images,
    input_assets,
    jobs,
    review_notes,
)
from studio.records import ImageRecord


def favourite_of(viewer_sub: str | None) -> sa.Exists:
    """Whether the image is one of `viewer_sub`'s favourites (None: nobody's, see favourites)."""
    return sa.exists().where(
        favourites.c.image_id == images.c.id, favourites.c.owner_sub == (viewer_sub or "")
    )


def delete_images(conn: sa.Connection, which: sa.ColumnElement[bool]) -> list[str]:
    """Delete the images `which` selects; return their files no remaining image uses.

    Only the files of rows this transaction deleted are returned (RETURNING): a server
    purging the same images at the same moment deletes none, and names no file twice.
    """
    going = sa.select(images.c.id).where(which)
    conn.execute(board_images.delete().where(board_images.c.image_id.in_(going)))
    conn.execute(review_notes.delete().where(review_notes.c.image_id.in_(going)))
    conn.execute(favourites.delete().where(favourites.c.image_id.in_(going)))
    files = conn.execute(
        images.delete().where(which).returning(images.c.file_path, images.c.thumb_path)
    ).all()
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


def forget_unused_input_assets(conn: sa.Connection, asset_ids: Iterable[int]) -> list[str]:
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


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def images_where(
    engine: sa.Engine, condition: sa.ColumnElement[bool], viewer_sub: str | None = None
) -> list[ImageRecord]:
    """The images `condition` selects in their job's order, with `viewer_sub`'s favourites."""
    query = sa.select(images, favourite_of(viewer_sub)).where(condition).order_by(images.c.position)
    with engine.connect() as conn:
        return [mappers.image(row[:-1], favourite=row[-1]) for row in conn.execute(query)]
