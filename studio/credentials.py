"""Which backend and key a job is sent with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class Backend(StrEnum):
    FOXAPI = "foxapi"
    DEMO = "demo"  # the local emulator: drawn on this machine, nothing billed


DEMO_KEY_ID = "demo"


@dataclass(frozen=True)
class Credentials:
    backend: Backend
    base_url: str
    api_key: str = field(repr=False)

    @property
    def key_id(self) -> str:
        """A one-way fingerprint naming the key in the store, so the key itself never is."""
        if self.backend is Backend.DEMO:
            return DEMO_KEY_ID
        return "key-" + hashlib.sha256(self.api_key.encode()).hexdigest()[:16]

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1].rstrip("/")
