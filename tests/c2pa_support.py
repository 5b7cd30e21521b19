"""Reading content credentials back as a verifier would: c2pa's own Reader."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import c2pa

# A self-signed or test certificate is not on the C2PA trust list: the one failure a
# valid manifest signed by it shows.
UNTRUSTED = "signingCredential.untrusted"


@dataclass(frozen=True)
class ReadCredentials:
    state: str
    failures: set[str]
    manifest: dict[str, Any]
    ingredient_failures: set[str]

    @property
    def actions(self) -> list[dict[str, Any]]:
        found = [
            action
            for assertion in self.manifest["assertions"]
            if assertion["label"].startswith("c2pa.actions")
            for action in assertion["data"]["actions"]
        ]
        return found

    @property
    def action_names(self) -> list[str]:
        return [action["action"] for action in self.actions]

    @property
    def valid_but_untrusted(self) -> bool:
        """Valid in every respect but the trust list: what a test certificate can be."""
        return (
            self.state == "Valid"
            and self.failures <= {UNTRUSTED}
            and self.ingredient_failures <= {UNTRUSTED}
        )


def read_credentials(data: bytes, mime_type: str) -> ReadCredentials:
    """The active manifest of `data` and how it validates; AssertionError if it has none."""
    # As a verifier on a machine that sends nothing beyond loopback.
    offline = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}})
    reader = c2pa.Reader.try_create(mime_type, io.BytesIO(data), context=offline)
    assert reader is not None, "the file carries no content credentials"
    with reader:
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest()
        state = reader.get_validation_state()
    assert manifest is not None
    failures = {entry["code"] for entry in results.get("activeManifest", {}).get("failure", [])}
    # How each ingredient's own manifest validated when it was added, and since.
    ingredient_failures = {
        entry["code"]
        for delta in results.get("ingredientDeltas", [])
        for entry in delta.get("validationDeltas", {}).get("failure", [])
    } | {
        entry["code"]
        for ingredient in manifest.get("ingredients", [])
        for entry in (ingredient.get("validation_results") or {})
        .get("activeManifest", {})
        .get("failure", [])
    }
    return ReadCredentials(str(state), failures, manifest, ingredient_failures)
