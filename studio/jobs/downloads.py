"""Fetching a job's results, none of them waiting behind another host's slow download.

A download may take the whole fetch deadline (studio.fetch) when its host drips the
bytes. With a small fixed pool of download threads, a few such hosts held every thread
and an ordinary result waited minutes in the queue behind them. Here every result is
fetched on a thread of its own from the moment its job completes, up to a ceiling far
above what the studio's jobs (at most four images each) reach; the deadline and size cap
of the fetch policy still bound each one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from studio.fetch import DownloadedFile, Fetcher

# Results fetched at once before any waits: 64 jobs of four images each.
MAX_CONCURRENT_DOWNLOADS = 256
COUNT_NOTE_START = "FoxAPI sent "

# What fetching one result gave: its bytes, or the error that ended the try.
Fetched = DownloadedFile | Exception


class Downloads:
    """Fetches results under a Fetcher, each on its own thread. Close it when done."""

    def __init__(self, fetcher: Fetcher, *, max_concurrent: int = MAX_CONCURRENT_DOWNLOADS) -> None:
        self._fetcher = fetcher
        self._threads = ThreadPoolExecutor(
            max_workers=max_concurrent, thread_name_prefix="studio-download"
        )

    def fetch_all(self, urls: Sequence[str], then: Callable[[list[Fetched]], None]) -> None:
        """Start fetching every URL at once; call `then` with what each gave, in order.

        `then` runs on the thread of the last fetch to end (at once, here, when there is
        nothing to fetch).
        """
        if not urls:
            then([])
            return
        fetched: list[Fetched] = [Exception("not fetched")] * len(urls)
        remaining = [len(urls)]
        lock = threading.Lock()

        def fetch(index: int, url: str) -> None:
            try:
                fetched[index] = self._fetcher.fetch_image(url)
            except Exception as exc:  # handed to `then`, which knows what each one means
                fetched[index] = exc
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                then(fetched)

        for index, url in enumerate(urls):
            self._threads.submit(fetch, index, url)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)


def count_note(sent: int, asked: int) -> str | None:
    """The job's note when FoxAPI sent more or fewer results than were asked for; else None
    (fewer: so a card showing fewer images does not blame expiry or the Trash)."""
    if sent == asked:
        return None
    if sent < asked:
        return f"{COUNT_NOTE_START}{sent:,} of the {asked} images asked for."
    kept = "the first was kept" if asked == 1 else f"the first {asked} were kept"
    return f"{COUNT_NOTE_START}{sent:,} images for a request of {asked}; only {kept}."


def count_note_in(note: str | None) -> str | None:
    """`note` when it is a `count_note` note (kept in the store across a restart)."""
    return note if note is not None and note.startswith(COUNT_NOTE_START) else None


def final_note(*parts: str | None) -> str | None:
    """The notes a finished job keeps, in order, each once."""
    kept = list(dict.fromkeys(part for part in parts if part))
    return " ".join(kept) or None
