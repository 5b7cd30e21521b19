"""Downloads: one file or a zip, metadata inside, a manifest, never a key."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.export import MANIFEST_NAME, build_zip, download_copy, write_folder
from studio.provenance import KEY_FILE, SELF_SIGNED_FOLDER, signer_from_settings
from studio.settings import Settings
from studio.store import Store
from tests.app_support import seed_images
from tests.imaging_support import exiftool_fields, exiv2_fields, jpeg_xmp, pixels_of, xmp_fields

TYPED_KEY = "sk-live-typed-in-the-sidebar"


def _pixels(data: bytes) -> bytes:
    with Image.open(BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def test_download_copy_is_named_from_the_prompt_and_carries_it(
    store: Store, archive: Archive
) -> None:
    [item] = seed_images(store, archive, "A red fox, in the snow!", aspect_ratio="16:9")

    copy = download_copy(item, archive)

    assert copy.filename == "a-red-fox-in-the-snow-1.png"
    assert copy.mime_type == "image/png"
    with Image.open(BytesIO(copy.data)) as image:
        assert image.info["parameters"].startswith("A red fox, in the snow!\n")
        assert "Aspect ratio: 16:9" in image.info["parameters"]
    original = archive.read(item.image.file_path or "")
    assert _pixels(copy.data) == _pixels(original)
    assert archive.read(item.image.file_path or "") == original  # the archive is untouched


def test_a_download_still_goes_out_when_the_studios_own_key_no_longer_reads(
    store: Store, archive: Archive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The studio's own chain is read when it first signs, not at start: a key file
    # damaged since then costs the file its credentials, never the download.
    signer = signer_from_settings(Settings(studio_data_dir=tmp_path))
    assert signer is not None
    (tmp_path / SELF_SIGNED_FOLDER / KEY_FILE).write_text("not a key")
    signer = signer_from_settings(Settings(studio_data_dir=tmp_path))
    assert signer is not None
    [item] = seed_images(store, archive, "a fox")

    copy = download_copy(item, archive, signer=signer)

    assert not copy.content_credentials
    assert copy.data.startswith(b"\x89PNG") and copy.filename == "a-fox-1.png"
    assert "went out without content credentials" in caplog.text


def test_zip_holds_every_file_with_metadata_and_a_manifest(store: Store, archive: Archive) -> None:
    items = seed_images(store, archive, "lighthouse at dusk", count=2, output_format="png")
    items += seed_images(store, archive, "lighthouse at dusk", fmt="JPEG", output_format="jpg")

    bundle = zipfile.ZipFile(BytesIO(build_zip(items, archive)))

    names = bundle.namelist()
    assert names[-1] == MANIFEST_NAME
    images = names[:-1]
    assert len(set(images)) == 3  # the same prompt twice still gives three distinct names
    assert images[0] == "lighthouse-at-dusk-1.png"
    manifest = json.loads(bundle.read(MANIFEST_NAME))
    assert manifest["count"] == 3
    assert [entry["file"] for entry in manifest["files"]] == images
    for entry, item in zip(manifest["files"], items, strict=True):
        assert entry["prompt"] == "lighthouse at dusk"
        assert entry["output_format"] == item.job.request.output_format
        assert entry["num_outputs"] == item.job.request.num_outputs
        assert entry["task_id"] == item.job.task_id
        assert entry["metadata_embedded"] is True
        data = bundle.read(entry["file"])
        assert b"lighthouse at dusk" in data
        assert _pixels(data) == _pixels(archive.read(item.image.file_path or ""))


def test_a_jpeg_edit_with_90_kb_of_input_addresses_downloads_with_its_metadata(
    store: Store, archive: Archive
) -> None:
    urls = tuple(f"https://cdn.example.com/{index}.png?sig={'x' * 30_000}" for index in range(3))
    items = seed_images(
        store, archive, "night sky", fmt="JPEG", output_format="jpg", image_urls=urls
    )
    original = archive.read(items[0].image.file_path or "")

    copy = download_copy(items[0], archive)
    bundle = zipfile.ZipFile(BytesIO(build_zip(items, archive)))

    assert copy.metadata_embedded
    zipped = bundle.read(bundle.namelist()[0])
    assert json.loads(bundle.read(MANIFEST_NAME))["files"][0]["metadata_embedded"] is True
    for data in (copy.data, zipped):
        assert _pixels(data) == _pixels(original)
        description, record, _ = xmp_fields(*jpeg_xmp(data))
        assert description == "night sky"
        assert record["input_images"] == list(urls)


def test_a_reviewers_copy_of_an_edit_still_says_it_was_edited_by_a_model(
    store: Store, archive: Archive
) -> None:
    urls = ("https://cdn.example.com/input.png",)
    [item] = seed_images(store, archive, "make it blue", fmt="JPEG", image_urls=urls)

    for outside in (False, True):
        copy = download_copy(item, archive, outside=outside)
        _, record, source = xmp_fields(*jpeg_xmp(copy.data))
        assert record["input_images"] == ([] if outside else list(urls))
        assert source.endswith("/compositeWithTrainedAlgorithmicMedia"), outside


@pytest.mark.parametrize(
    ("fmt", "output_format"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")]
)
def test_photo_tools_read_the_prompt_from_a_download(
    store: Store, archive: Archive, tmp_path: Path, fmt: str, output_format: str
) -> None:
    prompt = "狐狸 in snow, café"
    [item] = seed_images(store, archive, prompt, fmt=fmt, output_format=output_format)
    original = archive.read(item.image.file_path or "")

    copy = download_copy(item, archive)
    path = tmp_path / copy.filename
    path.write_bytes(copy.data)

    assert exiftool_fields(path, "XMP-dc:Description") == {"XMP-dc:Description": prompt}
    assert exiv2_fields(path, "Xmp.dc.description") == {
        "Xmp.dc.description": f'lang="x-default" {prompt}'
    }
    if fmt != "PNG":  # PNG has no EXIF description: exiv2 reads its XMP
        assert exiftool_fields(path, "IFD0:ImageDescription") == {"IFD0:ImageDescription": prompt}
        assert exiv2_fields(path, "Exif.Image.ImageDescription") == {
            "Exif.Image.ImageDescription": prompt
        }
    with Image.open(BytesIO(copy.data)) as image:
        image.verify()
    assert pixels_of(copy.data) == pixels_of(original)  # mode, size and every byte


def test_zip_never_names_the_key(store: Store, archive: Archive) -> None:
    credentials = Credentials(Backend.FOXAPI, "https://api.foxapi.cc", TYPED_KEY)
    items = seed_images(store, archive, "a quiet harbour", key_id=credentials.key_id)

    raw = build_zip(items, archive)

    assert TYPED_KEY.encode() not in raw
    assert credentials.key_id.encode() not in raw
    manifest = json.loads(zipfile.ZipFile(BytesIO(raw)).read(MANIFEST_NAME))
    assert "key" not in json.dumps(manifest).lower()


def test_empty_selection_gives_a_zip_with_an_empty_manifest(archive: Archive) -> None:
    bundle = zipfile.ZipFile(BytesIO(build_zip([], archive)))

    assert bundle.namelist() == [MANIFEST_NAME]
    assert json.loads(bundle.read(MANIFEST_NAME))["files"] == []


def test_a_folder_export_never_overwrites_what_the_folder_holds(
    store: Store, archive: Archive, tmp_path: Path
) -> None:
    items = seed_images(store, archive, "a paper boat", count=2)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a-paper-boat-1.png").write_bytes(b"mine")
    (folder / MANIFEST_NAME).write_text("{}")

    written = write_folder(items, archive, folder)

    assert [path.name for path in written] == [
        "a-paper-boat-1-2.png",
        "a-paper-boat-2.png",
        "manifest-2.json",
    ]
    assert (folder / "a-paper-boat-1.png").read_bytes() == b"mine"
    manifest = json.loads((folder / "manifest-2.json").read_text(encoding="utf-8"))
    assert [entry["file"] for entry in manifest["files"]] == [path.name for path in written[:2]]
    assert all(entry["content_credentials"] is False for entry in manifest["files"])
