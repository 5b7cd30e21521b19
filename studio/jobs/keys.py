"""The keys jobs are sent with: the server's own, and those typed into a browser."""

from __future__ import annotations

import threading

from studio.credentials import Credentials
from studio.people import Person


class TypedKeys:
    """Keys typed in the sidebar, by person: memory only, each serving its own person in
    any of their sessions. One for the whole server, shared by every person's Studio."""

    def __init__(self, server_credentials: Credentials) -> None:
        # The server's own credentials: the configured key, or the demo backend's.
        self.server_credentials = server_credentials
        self._typed: dict[str, Credentials] = {}
        self._lock = threading.Lock()

    def keep(self, person: Person, credentials: Credentials) -> None:
        with self._lock:
            self._typed[person.viewer] = credentials

    def forget(self, person: Person) -> None:
        with self._lock:
            self._typed.pop(person.viewer, None)

    def of(self, person: Person) -> Credentials:
        """The key `person` typed, else the server's."""
        with self._lock:
            return self._typed.get(person.viewer, self.server_credentials)
