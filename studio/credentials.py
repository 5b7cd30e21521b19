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
    # Whose typed key this is (an OpenID subject): it then serves that person's jobs
    # only. None for the server's key, and for keys typed where nobody signs in.
    owner_sub: str | None = None

    @property
    def key_id(self) -> str:
        """A one-way fingerprint naming the key in the store, so the key itself never is.

        A person's key is fingerprinted with its owner: should two people type the same
        key, each one's jobs wait for their own, never resumed by the other's.
        """
        if self.backend is Backend.DEMO:
            return DEMO_KEY_ID
        named = self.api_key if self.owner_sub is None else f"{self.owner_sub}\x1f{self.api_key}"
        return "key-" + hashlib.sha256(named.encode()).hexdigest()[:16]

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1].rstrip("/")
