"""EXIF in downloads: the prompt as ImageDescription, and new EXIF that carries what the
standard requires, so exiftool's validator finds nothing to warn about."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.export import download_copy
from studio.metadata import embed_metadata
from studio.provenance import ContentSigner, make_chain
from studio.store import Store
from tests.app_support import image_bytes, seed_images
from tests.imaging_support import exiftool_fields, metadata, photo_tool

FORMATS = ["PNG", "JPEG", "WEBP"]


def exiftool_warnings(path: Path) -> list[str]:
    """What `exiftool -validate -warning -a` finds wrong with the file."""
    done = subprocess.run(
        [photo_tool("exiftool"), "-validate", "-warning", "-a", "-s3", path],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()  # "OK", or "4 Warnings" and then each of them
    return [] if lines == ["OK"] else lines


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_download_with_new_exif_validates_without_a_warning(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"fox.{fmt.lower()}"
    path.write_bytes(embed_metadata(image_bytes(fmt=fmt), metadata("a fox 狐狸")))

    assert exiftool_warnings(path) == []


def test_new_exif_in_a_jpeg_has_the_tags_the_standard_requires(tmp_path: Path) -> None:
    path = tmp_path / "fox.jpg"
    data = embed_metadata(image_bytes(fmt="JPEG"), metadata("a fox", width=64, height=64))
    path.write_bytes(data)

    fields = exiftool_fields(
        path,
        "IFD0:all",
        "ExifIFD:ExifVersion",
        "ExifIFD:ColorSpace",
        "ExifIFD:ExifImageWidth",
        "ExifIFD:ComponentsConfiguration",
    )

    assert fields["IFD0:ImageDescription"] == "a fox"
    assert fields["IFD0:XResolution"] == 72 and fields["IFD0:YResolution"] == 72
    assert fields["IFD0:ResolutionUnit"] == "inches"
    assert fields["IFD0:YCbCrPositioning"] == "Centered"
    assert fields["ExifIFD:ExifVersion"] == "0232"
    assert fields["ExifIFD:ColorSpace"] == "sRGB"
    assert fields["ExifIFD:ExifImageWidth"] == 64
    assert fields["ExifIFD:ComponentsConfiguration"] == "Y, Cb, Cr, -"


def test_embedding_again_keeps_one_description_and_the_required_tags(tmp_path: Path) -> None:
    once = embed_metadata(image_bytes(fmt="WEBP"), metadata("first prompt"))
    path = tmp_path / "twice.webp"
    path.write_bytes(embed_metadata(once, metadata("second prompt")))

    fields = exiftool_fields(path, "IFD0:ImageDescription", "IFD0:XResolution")

    assert fields == {"IFD0:ImageDescription": "second prompt", "IFD0:XResolution": 72}
    assert b"first prompt" not in path.read_bytes()
    assert exiftool_warnings(path) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_signed_download_validates_without_a_warning(
    fmt: str, store: Store, archive: Archive, tmp_path: Path
) -> None:
    [item] = seed_images(store, archive, "a kite 凧", fmt=fmt)
    signer = ContentSigner.from_pem(*make_chain("Studio tests"))

    copy = download_copy(item, archive, signer=signer)

    assert copy.content_credentials
    path = tmp_path / copy.filename
    path.write_bytes(copy.data)
    assert exiftool_warnings(path) == []
