"""Gallery search reruns at two store sizes, timed inside one version's own code.

    PYTHONPATH=<version's folder> python bench/gallery_search.py SMALL_DIR LARGE_DIR

Run by bench/delivery.py once per version (cwd and PYTHONPATH on the version's folder,
so `app.py` and `studio` are that version's); prints one JSON object of figures.

As bench/gallery.py does, AppTest drives `app.py` onto the Gallery and each rerun is
timed at Streamlit's `ScriptRunner._run_script` (the server-side work of a rerun), with
the script thread's CPU time beside it. Two kinds of rerun, with a search typed:
- "same": the page rerun with the search unchanged (a click elsewhere, a widget), the
  issue's figure;
- "new": the rerun right after a different search is typed (a count no cache can hold).
The sizes take turns over ROUNDS rounds, the studio reopened each time, so passing load
on a shared machine falls on both alike. The session is given the address a tab's browser
always sends (AppTest.context's `url`): pages that link images rather than inline them
(main since c4ad47b) then draw a tile as they do for a person, not by reading its
thumbnail from disk into a data URL, the fallback of a run with no browser at all.
Today's release inlines thumbnails in any case and reads no address.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config
from streamlit.logger import set_log_level
from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
from streamlit.testing.v1 import AppTest

ROUNDS = 4
WARM_UP_RUNS = 2
SAME_RUNS = 6  # timed reruns per round with the search unchanged
FIRST_SEARCH = "fox"
# Words from bench/gallery.py's prompts: each matches at either size.
NEW_SEARCHES = ("lighthouse", "owl", "tram", "lemons", "mountains", "snow", "dusk", "lake")
START_TIMEOUT = 120.0
BROWSER_ADDRESS = "http://127.0.0.1:8501/gallery"  # as a tab on the studio sends it
SEARCH_LABEL = "Search prompts"


def timed(runs: list[tuple[float, float]]) -> Any:
    original = ScriptRunner._run_script

    def run(runner: ScriptRunner, rerun_data: Any) -> None:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            original(runner, rerun_data)
        finally:
            runs.append((time.perf_counter() - started, time.thread_time() - cpu_started))

    ScriptRunner._run_script = run  # type: ignore[method-assign]
    return original


def searched_gallery(data_dir: Path) -> AppTest:
    os.environ["STUDIO_DATA_DIR"] = str(data_dir)
    st.cache_resource.clear()  # the next run opens the studio on this store
    app = AppTest.from_file(str(Path.cwd() / "app.py"), default_timeout=START_TIMEOUT)
    app.context = {"url": BROWSER_ADDRESS}
    app.run()
    app.switch_page("pages/gallery.py")
    app.run()
    search_box(app).set_value(FIRST_SEARCH)
    app.run()
    if app.exception or not app.image:
        raise RuntimeError(f"The searched Gallery shows no images: {app.exception}")
    for _ in range(WARM_UP_RUNS):
        app.run()
    return app


def search_box(app: AppTest) -> Any:
    return next(box for box in app.text_input if box.label == SEARCH_LABEL)


def main() -> None:
    config.set_option("logger.level", "error")
    set_log_level(logging.ERROR)
    sizes = {"small": Path(sys.argv[1]), "large": Path(sys.argv[2])}
    same: dict[str, list[tuple[float, float]]] = {size: [] for size in sizes}
    new: dict[str, list[tuple[float, float]]] = {size: [] for size in sizes}
    for _ in range(ROUNDS):
        for size, data_dir in sizes.items():
            app = searched_gallery(data_dir)
            runs: list[tuple[float, float]] = []
            original = timed(runs)
            try:
                for _ in range(SAME_RUNS):
                    app.run()
                same[size] += runs[-SAME_RUNS:]
                for word in NEW_SEARCHES:
                    search_box(app).set_value(word)
                    app.run()
                    new[size].append(runs[-1])
            finally:
                ScriptRunner._run_script = original  # type: ignore[method-assign]
            if app.exception:
                raise RuntimeError(f"A rerun went wrong: {app.exception}")
    st.cache_resource.clear()

    def figures(samples: list[tuple[float, float]]) -> dict[str, float]:
        return {
            "median": statistics.median(wall for wall, _ in samples),
            "cpu_median": statistics.median(cpu for _, cpu in samples),
            "runs": len(samples),
        }

    print(
        json.dumps(
            {
                kind: {size: figures(samples[size]) for size in sizes}
                for kind, samples in (("same", same), ("new", new))
            }
        )
    )


if __name__ == "__main__":
    main()
