"""Content credentials (C2PA): a signed manifest in every file a person downloads.

The manifest says what made the file: FoxAPI's `grok-imagine-image` through Image
Studio, IPTC's digital source type, the prompt where the file carries it anyway, and
the inputs of an edit where the studio holds them (as ingredients). It is signed at
download time, after the prompt and settings are written in, so its hash covers the
final bytes; the archived original is never rewritten.

An original that already carries a manifest (FoxAPI signing its results one day) is
named as the download's parent ingredient: its own manifest travels inside the new one,
validated against the original bytes, so the chain stays valid although the studio's
metadata writer changed the file.

Signing uses STUDIO_C2PA_CERT and STUDIO_C2PA_KEY (PEM paths or values), or a
self-signed chain the studio makes in its data folder on first start. Readers verify
such credentials, but call the signer untrusted: only a certificate from a CA on the
C2PA trust list is trusted.

c2pa and cryptography are imported where they are used: together about 20 MB and a
tenth of a second, which a server on its own chain does not spend until a download is
signed (a configured certificate is still tried at start).
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from studio import formats
from studio.errors import StorageError
from studio.records import GalleryItem, InputAsset
from studio.settings import Settings

if TYPE_CHECKING:
    import c2pa
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

log = logging.getLogger(__name__)

STUDIO_NAME = "Image Studio"
STUDIO_VERSION = "0.1.0"  # pyproject.toml's version
GENERATOR = "FoxAPI grok-imagine-image via Image Studio"
IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
CREATED_BY_MODEL = IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia"
EDITED_BY_MODEL = IPTC_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia"
SELF_SIGNED_FOLDER = "c2pa"  # in the data folder: the chain and its key
CHAIN_FILE, KEY_FILE = "chain.pem", "key.pem"
SELF_SIGNED_ISSUER = "Image Studio (self-signed)"
SELF_SIGNED_YEARS = 10
_PEM_START = "-----BEGIN"
# Thumbnails would add the picture again (and an input's pixels to a copy): the file is
# the picture. Reading a file (an original from outside) never fetches anything: a
# remote manifest or an OCSP responder it names would be an outbound request past the
# studio's fetch policy.
_CONTEXT_SETTINGS = {
    "builder": {"thumbnail": {"enabled": False}},
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}


class CredentialsUnusable(StorageError):
    """The configured certificate or key cannot sign. str() is the one line to show."""


class SigningFailed(Exception):
    """A file could not be signed (c2pa's or the key's reason in str())."""


@dataclass(frozen=True)
class Ingredient:
    """A file the download was made from: the bytes and their MIME type."""

    data: bytes = field(repr=False)
    mime_type: str
    title: str


@dataclass(frozen=True)
class Facts:
    """What the manifest states about one download."""

    title: str  # the file's name
    edit: bool  # made from input images (IPTC's composite source type) or from words alone
    prompt: str | None = None  # only when the file itself carries it
    inputs: Sequence[Ingredient] = ()  # an edit's inputs, where the studio holds them

    @property
    def source_type(self) -> str:
        return EDITED_BY_MODEL if self.edit else CREATED_BY_MODEL


@dataclass(frozen=True)
class ContentSigner:
    """Signs downloads with one certificate chain (PEM, end-entity certificate first)."""

    chain_pem: bytes
    key_pem: bytes = field(repr=False)
    issuer: str  # who readers are told signed: the certificate's organisation or name
    tsa_url: str | None = None

    @classmethod
    def from_pem(
        cls, chain_pem: bytes, key_pem: bytes, tsa_url: str | None = None
    ) -> ContentSigner:
        """A signer for this chain and key; CredentialsUnusable when they cannot sign."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
            certificate = x509.load_pem_x509_certificates(chain_pem)[0]
        except (ValueError, TypeError, IndexError) as exc:
            raise CredentialsUnusable(
                f"STUDIO_C2PA_CERT or STUDIO_C2PA_KEY is not a PEM certificate chain and "
                f"an unencrypted private key ({exc}): fix them, or unset both to sign with "
                "the studio's own self-signed certificate."
            ) from None
        _algorithm(key)  # a key C2PA cannot sign with is said before the probe
        signer = cls(chain_pem, key_pem, _issuer(certificate), tsa_url)
        signer._check()
        return signer

    @cached_property
    def algorithm(self) -> c2pa.C2paSigningAlg:
        from cryptography.hazmat.primitives import serialization

        return _algorithm(serialization.load_pem_private_key(self.key_pem, password=None))

    def sign(
        self, data: bytes, mime_type: str, facts: Facts, *, original: bytes | None = None
    ) -> bytes:
        """`data` with a manifest stating `facts`, signed (see the module's notes).

        `original` is the archived file `data` was copied from: when it carries a
        manifest, it is the parent ingredient (as it is: its manifest's hashes cover
        its bytes, not the copy's).
        """
        import c2pa

        original = data if original is None else original
        upstream = has_manifest(original, mime_type)
        try:
            with (
                c2pa.Context.from_dict(_CONTEXT_SETTINGS) as context,
                c2pa.Signer.from_info(self._info()) as signer,
                c2pa.Builder(_manifest(facts, upstream), context) as builder,
            ):
                if upstream:
                    parent = Ingredient(original, mime_type, f"original of {facts.title}")
                    _add(builder, parent, "parentOf", "original")
                else:
                    for number, item in enumerate(facts.inputs, 1):
                        relationship = "parentOf" if number == 1 else "componentOf"
                        _add(builder, item, relationship, f"input-{number}")
                signed = io.BytesIO()
                builder.sign(signer, mime_type, io.BytesIO(data), signed)
        # ValueError: a key file that no longer reads (the studio's own chain is read
        # only when it first signs).
        except (c2pa.C2paError, ValueError) as exc:
            raise SigningFailed(str(exc)) from exc
        return signed.getvalue()

    def _info(self) -> c2pa.C2paSignerInfo:
        import c2pa

        return c2pa.C2paSignerInfo(self.algorithm, self.chain_pem, self.key_pem, self.tsa_url)

    def _check(self) -> None:
        """Sign a tiny picture once, so a chain c2pa refuses is said at start, not per file."""
        try:
            self.sign(_probe_png(), "image/png", Facts(title="probe.png", edit=False))
        except SigningFailed as exc:
            if self.tsa_url:
                raise CredentialsUnusable(
                    f"Content credentials cannot be signed ({exc}): check that the "
                    f"timestamp authority STUDIO_C2PA_TSA_URL={self.tsa_url} answers, and "
                    "the certificate (see the README's Content credentials)."
                ) from None
            raise CredentialsUnusable(
                f"The content credentials certificate cannot sign ({exc}). It needs an "
                "end-entity certificate with the digitalSignature key usage and the "
                "emailProtection or documentSigning extended key usage, followed by the "
                "CA certificates that issued it; or unset STUDIO_C2PA_CERT and "
                "STUDIO_C2PA_KEY to sign with the studio's own self-signed certificate."
            ) from None


def signer_from_settings(settings: Settings) -> ContentSigner | None:
    """The signer downloads use: None with STUDIO_C2PA=off; the configured certificate;
    else this data folder's self-signed one, made on first use.

    Raises CredentialsUnusable (one line to print) when the configured pair cannot sign.
    """
    if not settings.studio_c2pa:
        return None
    cert, key = settings.studio_c2pa_cert, settings.studio_c2pa_key
    if cert or key:
        if not (cert and key):
            raise CredentialsUnusable(
                "Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY (PEM files or their text), "
                "or neither to sign with the studio's own self-signed certificate."
            )
        chain_pem = _pem(cert, "STUDIO_C2PA_CERT")
        key_pem = _pem(key.get_secret_value(), "STUDIO_C2PA_KEY")
        return ContentSigner.from_pem(chain_pem, key_pem, settings.studio_c2pa_tsa_url)
    chain_pem, key_pem = self_signed_chain(settings.studio_data_dir)
    if settings.studio_c2pa_tsa_url:  # the operator's timestamp authority: tried at start
        return ContentSigner.from_pem(chain_pem, key_pem, settings.studio_c2pa_tsa_url)
    # The studio's own chain (make_chain's, ES256): nothing of the operator's to try, so
    # the start loads neither c2pa nor cryptography for it.
    return ContentSigner(chain_pem, key_pem, SELF_SIGNED_ISSUER)


def self_signed_chain(data_dir: Path) -> tuple[bytes, bytes]:
    """This data folder's chain and key (PEM), made on first use.

    Made in a temporary folder and renamed into place, so servers starting together on
    one data folder end up with one chain.
    """
    folder = data_dir / SELF_SIGNED_FOLDER
    if not (folder / KEY_FILE).exists():
        staging = Path(tempfile.mkdtemp(prefix=".c2pa-", dir=data_dir))
        chain_pem, key_pem = make_chain(SELF_SIGNED_ISSUER)
        (staging / CHAIN_FILE).write_bytes(chain_pem)
        descriptor = os.open(staging / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key_pem)
        try:
            staging.rename(folder)
        except OSError:  # another process made it first: theirs is the one
            shutil.rmtree(staging, ignore_errors=True)
    return (folder / CHAIN_FILE).read_bytes(), (folder / KEY_FILE).read_bytes()


def make_chain(
    organisation: str, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | None = None
) -> tuple[bytes, bytes]:
    """A new CA and an end-entity certificate it issued for `key` (a new ES256 key when
    None), as C2PA asks of a signer: the chain (end-entity first) and the key, both PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.UTC)
    lifetime = (
        now - datetime.timedelta(days=1),
        now + datetime.timedelta(days=365 * SELF_SIGNED_YEARS),
    )
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{organisation} root", organisation)
    root = (
        _certificate(root_name, root_name, root_key.public_key(), lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = key or ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _certificate(_name(organisation, organisation), root_name, key.public_key(), lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    chain = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in (leaf, root))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return chain, key_pem


def has_manifest(data: bytes, mime_type: str) -> bool:
    """Whether the file carries a C2PA manifest (valid or not)."""
    import c2pa

    try:
        with c2pa.Context.from_dict(_CONTEXT_SETTINGS) as context:
            reader = c2pa.Reader.try_create(mime_type, io.BytesIO(data), context=context)
    except c2pa.C2paError:
        return True  # a manifest it cannot read is still one not to overwrite
    if reader is None:
        return False
    reader.close()
    return True


def ingredients(
    held: Sequence[GalleryItem | InputAsset], read: Callable[[str], bytes]
) -> list[Ingredient]:
    """An edit's inputs the studio holds (gallery images and kept uploads, in the order
    the edit was given them) as ingredients, their bytes read by `read`."""
    found: list[Ingredient] = []
    for number, source in enumerate(held, 1):
        image = source.image if isinstance(source, GalleryItem) else source
        found.append(
            Ingredient(
                read(image.file_path or ""), formats.mime_type(image.format), f"input {number}"
            )
        )
    return found


def _manifest(facts: Facts, upstream: bool) -> dict[str, object]:
    agent = {"name": GENERATOR, "version": STUDIO_VERSION}
    if upstream:
        # The original's own manifest says what made it; this one says what was added.
        actions: list[dict[str, object]] = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
            {
                "action": "c2pa.edited.metadata",
                "softwareAgent": agent,
                "description": "The prompt and settings written into the file's XMP and EXIF.",
            },
        ]
    else:
        made: dict[str, object] = {"softwareAgent": agent, "digitalSourceType": facts.source_type}
        if facts.prompt is not None:
            made["description"] = f"Prompt: {facts.prompt}"
        if facts.inputs:
            # C2PA's first action opens the parent (the edit's first input); the edit
            # names every input it was given.
            labels = [f"input-{number}" for number in range(1, len(facts.inputs) + 1)]
            actions = [
                {"action": "c2pa.opened", "parameters": {"ingredientIds": labels[:1]}},
                {"action": "c2pa.edited", **made, "parameters": {"ingredientIds": labels}},
            ]
        else:
            actions = [{"action": "c2pa.created", **made}]
    return {
        "claim_generator_info": [{"name": STUDIO_NAME, "version": STUDIO_VERSION}],
        "title": facts.title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }


def _add(builder: c2pa.Builder, item: Ingredient, relationship: str, label: str) -> None:
    definition = {"title": item.title, "relationship": relationship, "label": label}
    builder.add_ingredient(definition, item.mime_type, io.BytesIO(item.data))


def _pem(value: str, name: str) -> bytes:
    """A setting's PEM: its own text, or the file it names."""
    if value.lstrip().startswith(_PEM_START):
        return value.strip().encode() + b"\n"
    try:
        return Path(value).expanduser().read_bytes()
    except OSError as exc:
        raise CredentialsUnusable(
            f"{name} names {value}, which cannot be read ({exc.strerror or exc}): give the "
            "path of a PEM file, or the PEM text itself."
        ) from None


def _algorithm(key: object) -> c2pa.C2paSigningAlg:
    import c2pa
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {
            "secp256r1": c2pa.C2paSigningAlg.ES256,
            "secp384r1": c2pa.C2paSigningAlg.ES384,
            "secp521r1": c2pa.C2paSigningAlg.ES512,
        }
        if key.curve.name in by_curve:
            return by_curve[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    raise CredentialsUnusable(
        "STUDIO_C2PA_KEY is neither an ES256 (P-256), ES384, ES512, Ed25519 nor RSA key, "
        "which C2PA signs with."
    )


def _issuer(certificate: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        found = certificate.subject.get_attributes_for_oid(oid)
        if found:
            return str(found[0].value)
    return certificate.subject.rfc4514_string()


def _name(common_name: str, organisation: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey,
    lifetime: tuple[datetime.datetime, datetime.datetime],
) -> x509.CertificateBuilder:
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(lifetime[0])
        .not_valid_after(lifetime[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _probe_png() -> bytes:
    """A 1x1 PNG: what the start-up check signs."""
    output = io.BytesIO()
    Image.new("RGB", (1, 1)).save(output, "PNG")
    return output.getvalue()
