"""The operator's webhook (STUDIO_WEBHOOK_URL): a Slack-compatible `{"text": ...}` POST
when a reviewer sends their review or a sweep's last job finishes.

Sent in the background, one message at a time on a thread of its own, so no page ever
waits for it; through the outbound-fetch policy's transport, with the webhook's own
origin allowed (an operator may point it at a chat server on the private network), no
redirect followed. A message is sent again, at most twice, only when the connection
itself failed, so the receiver certainly never saw it; once anything may have reached
it (a timeout while reading, an error answer), it is not resent: a duplicate in a
team's channel is worse than a missing one. The URL holds its own secret, so it is
never logged; only its host is.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable

import httpx

from studio.boards.review import Review
from studio.fetch import FetchPolicy, GuardedTransport
from studio.states import JobStatus
from studio.store import Store

log = logging.getLogger(__name__)

ATTEMPTS = 3  # the first send and at most two more, for a connection that never opened
RETRY_SECONDS = (1.0, 5.0)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
QUEUE_SIZE = 100  # messages waiting; beyond it new ones are dropped (and logged)
_STOP = None


def slack_text(text: str) -> str:
    """Plain text as Slack reads it: &, < and > escaped, so a reviewer's name cannot
    mention @channel or make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Webhook:
    """Sends messages to one webhook URL, in order, in the background."""

    def __init__(
        self,
        url: str,
        policy: FetchPolicy,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        guarded = GuardedTransport(policy, inner=transport)
        guarded.trust_origin(url)  # the operator's own host, wherever it is
        self._url = url
        self._host = httpx.URL(url).host
        self._client = httpx.Client(transport=guarded, timeout=TIMEOUT, follow_redirects=False)
        self._sleep = sleep
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="studio-webhook", daemon=True)
        self._thread.start()
        self._announced: set[str] = set()  # sweeps already told, in this process
        self._lock = threading.Lock()

    def send(self, text: str) -> None:
        """Queue one message (plain text); returns at once."""
        try:
            self._queue.put_nowait(slack_text(text))
        except queue.Full:
            log.warning("Webhook to %s: %d messages waiting, one dropped", self._host, QUEUE_SIZE)

    def review_finished(self, review: Review, reviewer: str) -> None:
        """A reviewer sent their review through a link of the board's."""
        votes = [note.vote for note in review.my_notes(reviewer).values()]
        counts = f"{votes.count('approve')} approved, {votes.count('changes')} to change"
        via = f" (via {review.link_label})" if review.link_label else ""
        self.send(f"{reviewer} finished reviewing “{review.board_name}”{via}: {counts}.")

    def job_finished(self, store: Store, job_id: str) -> None:
        """A job reached its final state: when it was its sweep's last, say so once."""
        batch_id = store.jobs.job(job_id).origin.batch_id
        if batch_id is None:
            return
        sweep = store.jobs.batch_jobs(batch_id)
        if any(job.in_flight for job in sweep):
            return
        with self._lock:
            if batch_id in self._announced:
                return
            self._announced.add(batch_id)
        done = sum(job.status is JobStatus.DONE for job in sweep)
        prompt = sweep[0].request.prompt if sweep else ""
        others = "" if done == len(sweep) else f", {len(sweep) - done} did not"
        self.send(f"A sweep of {len(sweep)} jobs finished: {done} done{others}. “{prompt}”")

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (within `timeout`), then stop."""
        with contextlib.suppress(queue.Full):  # a full queue: the thread ends with the process
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while (text := self._queue.get()) is not _STOP:
            self._post(text)

    def _post(self, text: str) -> None:
        for attempt in range(ATTEMPTS):
            try:
                response = self._client.post(self._url, json={"text": text})
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # No connection, so nothing was sent: safe to try again, a bounded number.
                if attempt + 1 < ATTEMPTS:
                    self._sleep(RETRY_SECONDS[attempt])
                    continue
                log.warning("Webhook to %s not reached: %s", self._host, type(exc).__name__)
                return
            except (httpx.HTTPError, OSError) as exc:
                log.warning("Webhook to %s may not have arrived: %s", self._host, exc)
                return
            if not response.is_success:
                log.warning("Webhook to %s answered %s", self._host, response.status_code)
            return
