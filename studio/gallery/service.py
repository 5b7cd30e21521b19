"""The gallery: what one person may see of the images kept, and everything made of them
(files, links, zips, downloads, the lineage of edits), with styles and edit inputs.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio import export, formats, imaging, links
from studio.archive import Archive
from studio.errors import StorageError
from studio.export import DownloadCopy
from studio.gallery.store import GalleryStore
from studio.gallery.trash import Trash
from studio.links import UrlSigner
from studio.people.access import Access
from studio.provenance import ContentSigner, Ingredient, ingredients
from studio.records import (
    GalleryFilter,
    GalleryItem,
    ImageRecord,
    InputAsset,
    InputKind,
    InputSource,
    JobRecord,
    Style,
)
from studio.request import InvalidRequest, check_image_url
from studio.settings import Settings
from studio.states import ImageStatus

log = logging.getLogger(__name__)

PREVIEW_PX = 256  # an upload's preview on the Edit page
STYLE_NAME_CHARS, STYLE_TEXT_CHARS = 80, 500


@dataclass(frozen=True)
class EditInput:
    """An image to edit: a link, a cleaned upload, or a gallery image."""

    kind: str  # "url", "upload" or "gallery"
    label: str
    url: str | None = None
    image: imaging.CleanImage | None = field(default=None, repr=False)
    preview: bytes | None = field(default=None, repr=False)
    image_id: int | None = None

    @classmethod
    def from_url(cls, url: str) -> EditInput:
        """A link, checked for its form (raises ValueError with a message for people)."""
        return cls("url", url, url=check_image_url(url.strip()))

    @property
    def identity(self) -> str:
        """Equal for the same picture chosen twice, whatever it is called."""
        if self.kind == "upload" and self.image is not None:
            return "upload:" + hashlib.sha256(self.image.data).hexdigest()
        if self.kind == "gallery":
            return f"gallery:{self.image_id}"
        return f"url:{self.url}"


@dataclass(frozen=True)
class Lineage:
    """What an image was edited from, in the order its edit was given them, and the
    gallery images edited from it.

    `made_from` holds gallery images and kept uploads; `links` the inputs FoxAPI fetched
    from a link, which the studio never kept; `missing` the inputs deleted since, or not
    this person's to see.
    """

    made_from: list[GalleryItem | InputAsset]
    children: list[GalleryItem]
    links: list[str] = field(default_factory=list)
    missing: int = 0

    @property
    def before(self) -> GalleryItem | InputAsset | None:
        """What the image is compared with: the first input still at hand."""
        return self.made_from[0] if self.made_from else None


class GalleryService:
    """The images one person may see: pages of the gallery, each image's files and links,
    favourites, styles, the inputs of edits and the lineage between them."""

    def __init__(
        self,
        settings: Settings,
        store: GalleryStore,
        archive: Archive,
        signer: UrlSigner,
        access: Access,
        *,
        content_signer: ContentSigner | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._archive = archive
        self.signer = signer
        self._access = access
        self.person = access.person
        self.content_signer = content_signer
        self.trash = Trash(
            store.trash, archive, access, self.image, keep_days=settings.studio_trash_days
        )

    def input_source(self, item: EditInput) -> InputSource:
        """Where an input came from for the lineage; an upload is kept as an input asset."""
        if item.kind == "gallery":
            return InputSource(InputKind.GALLERY, item.image_id)
        if item.image is None:
            return InputSource(InputKind.LINK)
        try:
            asset = self._store.add_input_asset(self._archive.save_input(item.image.data))
        except StorageError as exc:
            # The edit goes out all the same: only its lineage lacks this picture.
            log.warning("An upload was not kept for the lineage: %s", exc)
            return InputSource(InputKind.LINK)
        return InputSource(InputKind.UPLOAD, asset.id)

    def styles(self) -> list[Style]:
        """This person's styles and everyone's shared ones."""
        return self._store.styles_for(self.person.sub)

    def add_style(self, *, name: str, text: str, shared: bool) -> int:
        """Save a named snippet; InvalidRequest says what is wrong with it."""
        name, text = " ".join(name.split()), " ".join(text.split())
        if not name or len(name) > STYLE_NAME_CHARS:
            raise InvalidRequest(
                "style_name", f"Give the style a name of 1 to {STYLE_NAME_CHARS} characters."
            )
        if not text or len(text) > STYLE_TEXT_CHARS:
            raise InvalidRequest(
                "style_text", f"Write the style's words: 1 to {STYLE_TEXT_CHARS} characters."
            )
        return self._store.add_style(self.person.sub, name, text, shared=shared)

    def remove_style(self, style_id: int) -> bool:
        """Delete one of this person's styles (never someone else's shared one)."""
        return self._store.delete_style(style_id, self.person.sub)

    def with_styles(self, prompt: str, style_ids: Iterable[int]) -> str:
        """`prompt` with the chosen styles' words after it, in the order they are listed."""
        chosen = set(style_ids)
        extra = [style.text for style in self.styles() if style.id in chosen]
        return ", ".join([prompt.strip(), *extra]) if extra and prompt.strip() else prompt

    def lineage(self, image_id: int) -> Lineage:
        """What the image was made from and edited into, as far as this person may see.

        Its inputs are seen by whoever sees the image; gallery images edited from it, and
        its gallery parents, only when they may see those too.
        """
        item = self.image(image_id)
        if item is None:
            return Lineage([], [])
        children = [
            child for job in self._store.children(image_id) for child in self.saved_items(job)
        ]
        origin, urls = item.job.origin, item.job.request.image_urls
        if not origin.inputs:  # made before inputs were recorded: its gallery parents alone
            parents = self.images(origin.parent_image_ids)
            return Lineage(
                list(parents),
                children,
                links=[] if parents else list(urls),
                missing=len(origin.parent_image_ids) - len(parents),
            )
        assets = self._store.input_assets(origin.input_asset_ids)
        made_from: list[GalleryItem | InputAsset] = []
        links: list[str] = []
        for position, source in enumerate(origin.inputs):
            if source.kind is InputKind.LINK:
                links += urls[position : position + 1]
                continue
            found: GalleryItem | InputAsset | None
            if source.kind is InputKind.GALLERY:
                found = self.image(source.id) if source.id is not None else None
            else:
                found = assets.get(source.id) if source.id is not None else None
            if found is not None:
                made_from.append(found)
        missing = len(origin.inputs) - len(made_from) - len(links)
        return Lineage(made_from, children, links=links, missing=missing)

    def saved_items(self, job: JobRecord) -> list[GalleryItem]:
        return self.images(image.id for image in self.saved_images(job.id))

    def upload_input(self, data: bytes, filename: str) -> EditInput:
        """An upload checked, turned upright and stripped of metadata; InvalidImage if not."""
        image = imaging.clean_upload(
            data,
            filename,
            max_bytes=self.settings.studio_max_upload_bytes,
            max_pixels=self.settings.studio_max_upload_pixels,
        )
        preview = imaging.make_thumbnail(image.data, PREVIEW_PX)
        return EditInput("upload", image.filename, image=image, preview=preview)

    def file_input(self, path: Path) -> EditInput:
        """A file on this machine as an input: its size checked before any of it is read."""
        max_bytes = self.settings.studio_max_upload_bytes
        imaging.check_upload_size(path.stat().st_size, path.name, max_bytes)
        with path.open("rb") as file:
            # No more than the limit is read, should the file grow meanwhile.
            return self.upload_input(file.read(max_bytes + 1), path.name)

    def gallery_input(self, image_id: int) -> EditInput | None:
        item = self.image(image_id)
        if item is None:
            return None
        return EditInput("gallery", item.job.prompt, image_id=item.image.id)

    def saved_images(self, job_id: str) -> list[ImageRecord]:
        """The job's archived images, if this person may see it."""
        saved = [
            image
            for image in self._store.job_images(job_id, viewer_sub=self.person.sub)
            if image.status is ImageStatus.ARCHIVED
        ]
        # Every image of a job is seen by whoever sees the job: one of them answers.
        return saved if not saved or self.image(saved[0].id) is not None else []

    def image_statuses(self, job_id: str) -> Counter[ImageStatus]:
        """How many of the job's images are in each state, the Trash's included (a card
        says where the images it does not show went)."""
        return Counter(image.status for image in self._store.job_images(job_id))

    @property
    def sees_everyone(self) -> bool:
        """Whether the gallery offers Everyone beside Mine to this person."""
        return self._access.sees_everyone

    def may_change(self, job: JobRecord) -> bool:
        """Whether this person may delete the job's images (its owner, or an admin)."""
        return self._access.may_change(job)

    def gallery(self, where: GalleryFilter, *, limit: int, offset: int) -> list[GalleryItem]:
        """A page of the images `where` selects among those this person may see."""
        return self._store.gallery(self._access.visible(where), limit=limit, offset=offset)

    def gallery_count(self, where: GalleryFilter) -> int:
        return self._store.gallery_count(self._access.visible(where))

    def gallery_position(self, where: GalleryFilter, image_id: int) -> int | None:
        """The image's place in the gallery `where` shows, counting from 0; None if not in it."""
        return self._store.gallery_position(self._access.visible(where), image_id)

    def image(self, image_id: int) -> GalleryItem | None:
        """The image, or None when it is gone or not this person's to see."""
        item = self._store.image(image_id, viewer_sub=self.person.sub)
        return item if item is not None and self._access.may_see(item.job) else None

    def may_see_image(self, image_id: int) -> bool | None:
        """True or False for an image in the gallery; None when there is no such image."""
        item = self._store.image(image_id)
        return None if item is None else self._access.may_see(item.job)

    def forget_unused_inputs(self, asset_ids: Iterable[int]) -> None:
        """Delete the uploads among `asset_ids` that no job was made from, with their files
        (a job refused before anything was billed is gone, and so are uploads it alone used)."""
        for key in self._store.forget_unused_input_assets(asset_ids):
            self._archive.delete(key)

    def reviewed_image(self, image_id: int) -> GalleryItem | None:
        """The image whoever it belongs to: for a reviewer's link, which the boards checked."""
        return self._store.image(image_id)

    def export(self, items: Sequence[GalleryItem], folder: Path) -> list[Path]:
        """`items` written into `folder` as the zip holds them (metadata and content
        credentials inside), with manifest.json."""
        signer, inputs_of = self.content_signer, self.ingredients_of
        return export.write_folder(items, self._archive, folder, signer=signer, inputs_of=inputs_of)

    def images(self, image_ids: Iterable[int]) -> list[GalleryItem]:
        return [item for item in map(self.image, image_ids) if item is not None]

    def set_favourite(self, image_id: int, favourite: bool) -> None:
        """Mark an image this person may see as one of their own favourites."""
        if self.image(image_id) is not None:
            self._store.set_favourite(image_id, favourite, owner_sub=self.person.sub)

    def thumbnail(self, image: ImageRecord) -> bytes | None:
        """The gallery thumbnail's bytes, or None when it is missing from the archive."""
        if not image.thumb_path:
            return None
        try:
            return self._archive.read(image.thumb_path)
        except OSError:
            return None

    def original(self, image: ImageRecord) -> bytes:
        return self._archive.read(image.file_path or "")

    def original_location(self, image: ImageRecord) -> str | None:
        """Where a person finds the original: a path on this machine, or an s3:// address."""
        if not image.file_path:
            return None
        return self._archive.location(image.file_path)

    def download(self, item: GalleryItem, *, reviewer: bool = False) -> DownloadCopy:
        """The original with its prompt and settings written in, and content credentials
        (for a reviewer, without the task id, the links or the inputs an edit started from)."""
        inputs = () if reviewer else self.ingredients_of(item)
        return export.download_copy(
            item, self._archive, outside=reviewer, signer=self.content_signer, inputs=inputs
        )

    @property
    def content_credentials_issuer(self) -> str | None:
        """Who signs downloads' content credentials; None when they carry none."""
        return self.content_signer.issuer if self.content_signer else None

    def ingredients_of(self, item: GalleryItem) -> list[Ingredient]:
        """The inputs of an edit this studio holds, for its content credentials."""
        return ingredients(self.lineage(item.image.id).made_from, self._archive.read)

    def download_filename(self, item: GalleryItem) -> str:
        return export.copy_filename(item)

    def zip(self, image_ids: Sequence[int]) -> bytes:
        return b"".join(self._zip_of(self.images(image_ids)))

    def stream_zip(self, image_ids: Sequence[int], digest: str) -> Iterator[bytes] | None:
        """The zip piece by piece, one image at a time; None unless every image is still
        there, this person's to see, and the picture the link (`digest`) was made for."""
        items = self.images(image_ids)
        if (
            len(items) != len(image_ids)
            or links.zip_digest(i.image.sha256 for i in items) != digest
        ):
            return None
        return self._zip_of(items)

    def _zip_of(self, items: Sequence[GalleryItem]) -> Iterator[bytes]:
        return export.stream_zip(
            items, self._archive, signer=self.content_signer, inputs_of=self.ingredients_of
        )

    def mime_type(self, image: ImageRecord | InputAsset) -> str:
        return formats.mime_type(image.format)

    def input_asset(self, asset_id: int) -> InputAsset | None:
        """An input asset by id, if this person may see a job made from it."""
        asset = self._store.input_assets([asset_id]).get(asset_id)
        users = self._store.jobs_using_input_asset(asset_id) if asset is not None else []
        return asset if any(map(self._access.may_see, users)) else None

    def input_thumbnail(self, asset: InputAsset) -> bytes | None:
        """An input asset's thumbnail, or None when it is missing from the archive."""
        try:
            return self._archive.read(asset.thumb_path)
        except OSError:
            return None

    def input_original(self, asset: InputAsset) -> bytes:
        """An input asset's bytes as edited: cleaned, without metadata."""
        return self._archive.read(asset.file_path)

    def image_link(self, image: ImageRecord, kind: str, viewer: str) -> str:
        """A signed link to an image's thumbnail, original or download copy."""
        extension = "webp" if kind == "thumb" else formats.extension(image.format or "png")
        path = links.image_path(kind, image.id, image.sha256 or "none", extension)
        return self.signer.sign(path, viewer)

    def input_link(self, asset: InputAsset, kind: str, viewer: str) -> str:
        """A signed link to an input asset's thumbnail or original (see lineage())."""
        extension = "webp" if kind == "thumb" else formats.extension(asset.format)
        return self.signer.sign(links.input_path(kind, asset.id, asset.sha256, extension), viewer)

    def zip_link(self, image_ids: Sequence[int], viewer: str) -> str:
        """A signed link to a zip of the images among `image_ids` this person may see."""
        return self.zip_link_of(self.images(image_ids), viewer)

    def zip_link_of(self, items: Sequence[GalleryItem], viewer: str) -> str:
        digest = links.zip_digest(item.image.sha256 for item in items)
        return self.signer.sign(links.zip_path([item.image.id for item in items], digest), viewer)

    def zip_filename(self, count: int) -> str:
        return export.zip_filename(count)
