"""One studio process for bench/clicks.py, by the code of the version it is run in.

    FOXAPI_API_KEY=... FOXAPI_BASE_URL=... STUDIO_DATA_DIR=... \
    PYTHONPATH=<version's folder> python bench/clicks_server.py JOBS CLICKS SETTLE OUT.json

Run with cwd and PYTHONPATH on a version's folder, so `studio` is that version's (only
APIs every version since c4ad47b has: open_studio, engine.submit, GenerationRequest).
It sends JOBS jobs as four people would, lets the engine's polls of them fill the request
slots for SETTLE seconds, then sends CLICKS more, one at a time, each 1.5 s after the
last came back, and writes when each click's call began to OUT.json. The POSTs' arrival
is read from the emulator's log by bench/clicks.py.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from studio.request import GenerationRequest
from studio.runtime import open_studio

CLICK_PAUSE = 1.5  # seconds between one click's answer and the next click
SENDERS = 4


def main() -> None:
    jobs, clicks, settle, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    studio = open_studio()
    try:

        def send(prompt: str) -> None:
            studio.engine.submit(GenerationRequest.build(prompt=prompt), studio.credentials)

        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            list(pool.map(send, [f"bench click background #{n}" for n in range(jobs)]))
        saturated_from = time.time()
        time.sleep(settle)
        called: dict[str, float] = {}
        for number in range(clicks):
            prompt = f"bench click #{number}"
            called[prompt] = time.time()
            send(prompt)
            time.sleep(CLICK_PAUSE)
        ended = time.time()
    finally:
        studio.close()
    Path(out).write_text(json.dumps({"called": called, "window": [saturated_from, ended]}))


if __name__ == "__main__":
    main()
