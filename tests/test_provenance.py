"""Content credentials: a signed C2PA manifest that verifies, made with the studio's own
self-signed chain or a configured certificate, and an upstream manifest kept as parent."""

from __future__ import annotations

import datetime
import io
import socket
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from studio import provenance
from studio.metadata import ImageMetadata, embed_metadata
from studio.provenance import (
    CREATED_BY_MODEL,
    EDITED_BY_MODEL,
    GENERATOR,
    ContentSigner,
    CredentialsUnusable,
    Facts,
    Ingredient,
    signer_from_settings,
)
from studio.settings import Settings
from tests.app_support import image_bytes
from tests.c2pa_support import read_credentials

FORMATS = [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]


@pytest.fixture(scope="module")
def signer() -> ContentSigner:
    return ContentSigner.from_pem(*provenance.make_chain("Studio tests"))


@pytest.mark.parametrize(("fmt", "mime_type"), FORMATS)
def test_a_generated_image_is_signed_as_made_by_the_model(
    signer: ContentSigner, fmt: str, mime_type: str
) -> None:
    data = image_bytes(fmt=fmt)

    signed = signer.sign(data, mime_type, Facts("a-fox-1.png", edit=False, prompt="a fox 狐狸"))

    read = read_credentials(signed, mime_type)
    assert read.valid_but_untrusted, (read.state, read.failures)
    assert read.action_names == ["c2pa.created"]
    [created] = read.actions
    assert created["digitalSourceType"] == CREATED_BY_MODEL
    assert created["softwareAgent"]["name"] == GENERATOR
    assert created["description"] == "Prompt: a fox 狐狸"
    assert read.manifest["claim_generator_info"][0]["name"] == "Image Studio"
    assert read.manifest["signature_info"]["issuer"] == "Studio tests"


def test_without_the_prompt_the_manifest_does_not_state_one(signer: ContentSigner) -> None:
    signed = signer.sign(image_bytes(), "image/png", Facts("x.png", edit=False))

    [created] = read_credentials(signed, "image/png").actions
    assert "description" not in created
    assert b"Prompt" not in signed


def test_an_edit_names_its_inputs_as_ingredients(signer: ContentSigner) -> None:
    inputs = [
        Ingredient(image_bytes((1, 2, 3)), "image/png", "input 1"),
        Ingredient(image_bytes((4, 5, 6), fmt="JPEG"), "image/jpeg", "input 2"),
    ]

    signed = signer.sign(image_bytes(), "image/png", Facts("e.png", edit=True, inputs=inputs))

    read = read_credentials(signed, "image/png")
    assert read.valid_but_untrusted
    assert read.action_names == ["c2pa.opened", "c2pa.edited"]
    assert read.actions[1]["digitalSourceType"] == EDITED_BY_MODEL
    relationships = [item["relationship"] for item in read.manifest["ingredients"]]
    assert relationships == ["parentOf", "componentOf"]


def test_an_edit_without_inputs_at_hand_is_created_as_a_composite(signer: ContentSigner) -> None:
    signed = signer.sign(image_bytes(), "image/png", Facts("e.png", edit=True))

    read = read_credentials(signed, "image/png")
    assert read.action_names == ["c2pa.created"]
    assert read.actions[0]["digitalSourceType"] == EDITED_BY_MODEL


@pytest.mark.parametrize(("fmt", "mime_type"), FORMATS)
def test_an_upstream_manifest_stays_valid_as_the_parent_after_metadata_is_written(
    signer: ContentSigner, fmt: str, mime_type: str
) -> None:
    upstream = ContentSigner.from_pem(*provenance.make_chain("Upstream Model Co"))
    original = upstream.sign(image_bytes(fmt=fmt), mime_type, Facts("o", edit=False))
    metadata = ImageMetadata(
        prompt="a fox", model="grok-imagine-image", mode="generate", aspect_ratio="1:1",
        output_format=fmt.lower(), num_outputs=1, image_index=1, task_id=None,
        created_at="2026-01-01T00:00:00+00:00", width=64, height=64,
    )  # fmt: skip
    rewritten = embed_metadata(original, metadata)
    assert read_credentials(rewritten, mime_type).state == "Invalid"  # the hash broke

    signed = signer.sign(
        rewritten, mime_type, Facts("a-fox-1", edit=False, prompt="a fox"), original=original
    )

    read = read_credentials(signed, mime_type)
    assert read.valid_but_untrusted, (read.state, read.failures, read.ingredient_failures)
    assert read.action_names == ["c2pa.opened", "c2pa.edited.metadata"]
    [parent] = read.manifest["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["active_manifest"]  # the upstream manifest travels inside
    assert b"a fox" in signed  # and the studio's metadata is kept


def test_the_self_signed_chain_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(studio_data_dir=tmp_path)

    first = signer_from_settings(settings)
    again = signer_from_settings(settings)

    assert first is not None and again is not None
    assert first.chain_pem == again.chain_pem
    assert first.issuer == "Image Studio (self-signed)"
    key = tmp_path / "c2pa" / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["c2pa"]  # no staging folder left


def test_off_turns_content_credentials_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIO_C2PA", "off")

    assert signer_from_settings(Settings(studio_data_dir=tmp_path)) is None
    assert not (tmp_path / "c2pa").exists()


def test_a_configured_ed25519_certificate_given_as_pem_text_signs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chain, key = provenance.make_chain("Acme Studio", ed25519.Ed25519PrivateKey.generate())
    monkeypatch.setenv("STUDIO_C2PA_CERT", chain.decode())
    monkeypatch.setenv("STUDIO_C2PA_KEY", key.decode())

    signer = signer_from_settings(Settings(studio_data_dir=tmp_path))

    assert signer is not None and signer.issuer == "Acme Studio"
    signed = signer.sign(image_bytes(fmt="JPEG"), "image/jpeg", Facts("x.jpg", edit=False))
    assert read_credentials(signed, "image/jpeg").valid_but_untrusted
    assert not (tmp_path / "c2pa").exists()  # no self-signed chain made


def test_configured_pem_files_sign(tmp_path: Path) -> None:
    chain, key = provenance.make_chain("Acme Files")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    settings = Settings(
        studio_data_dir=tmp_path,
        studio_c2pa_cert=str(tmp_path / "chain.pem"),
        studio_c2pa_key=str(tmp_path / "key.pem"),
    )

    signer = signer_from_settings(settings)

    assert signer is not None and signer.issuer == "Acme Files"


@pytest.mark.parametrize(
    ("cert", "key", "says"),
    [
        ("chain", None, "Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY"),
        ("/nowhere/chain.pem", "key", "cannot be read"),
        ("-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----", "key", "not a PEM"),
        ("self-signed leaf", "key", "cannot sign"),
    ],
)
def test_an_unusable_certificate_is_said_in_one_line_at_start(
    tmp_path: Path, cert: str, key: str | None, says: str
) -> None:
    chain, key_pem = provenance.make_chain("Acme")
    values = {
        "chain": chain.decode(),
        "self-signed leaf": _self_signed_without_usages(key_pem).decode(),
        "key": key_pem.decode(),
    }
    settings = Settings(
        studio_data_dir=tmp_path,
        studio_c2pa_cert=values.get(cert, cert),
        studio_c2pa_key=values[key] if key else None,
    )

    with pytest.raises(CredentialsUnusable, match=says) as raised:
        signer_from_settings(settings)
    assert "\n" not in str(raised.value)
    assert key_pem.decode() not in str(raised.value)


def _self_signed_without_usages(key_pem: bytes) -> bytes:
    """A certificate C2PA refuses to sign with: self-signed, no key usages."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plain")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_the_generator_version_is_the_projects() -> None:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]

    assert version == provenance.STUDIO_VERSION


def test_a_remote_manifest_an_original_names_is_never_fetched(signer: ContentSigner) -> None:
    requests: list[str] = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_port}/manifest.c2pa"
    try:
        original = _signed_elsewhere(image_bytes(fmt="JPEG"), address)
        assert address.encode() in original

        signed = signer.sign(original, "image/jpeg", Facts("x.jpg", edit=False), original=original)
    finally:
        server.shutdown()
        server.server_close()

    assert requests == []  # a default c2pa reader would have asked for it
    assert read_credentials(signed, "image/jpeg").action_names == [
        "c2pa.opened",
        "c2pa.edited.metadata",
    ]


def _signed_elsewhere(data: bytes, manifest_address: str) -> bytes:
    """`data` signed with its manifest kept at `manifest_address`, not in the file."""
    elsewhere = ContentSigner.from_pem(*provenance.make_chain("Elsewhere"))
    definition = provenance._manifest(Facts("o.jpg", edit=False), upstream=False)
    with (
        c2pa.Signer.from_info(elsewhere._info()) as signing,
        c2pa.Builder(definition) as builder,
    ):
        builder.set_no_embed()
        builder.set_remote_url(manifest_address)
        output = io.BytesIO()
        builder.sign(signing, "image/jpeg", io.BytesIO(data), output)
    return output.getvalue()


def test_a_timestamp_authority_that_does_not_answer_is_named_at_start(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}/tsa"
    settings = Settings(studio_data_dir=tmp_path, studio_c2pa_tsa_url=closed)

    with pytest.raises(CredentialsUnusable, match="STUDIO_C2PA_TSA_URL"):
        signer_from_settings(settings)


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
