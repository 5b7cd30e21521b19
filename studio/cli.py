"""`python -m studio ...`: the same engine and store as the app, from a terminal."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from studio.emulator import EmulatorConfig, serve
from studio.errors import FoxAPIError
from studio.imaging import CleanImage, InvalidImage, check_upload_size, clean_upload
from studio.request import (
    ASPECT_RATIOS,
    OUTPUT_FORMATS,
    GenerationRequest,
    InvalidRequest,
    check_image_url,
)
from studio.runtime import Studio, open_studio
from studio.store import IN_FLIGHT, ImageStatus, JobRecord, JobStatus

STATUS_WORDS = {
    JobStatus.SUBMITTING: "Sending",
    JobStatus.QUEUED: "Queued",
    JobStatus.RUNNING: "Generating",
    JobStatus.DOWNLOADING: "Saving images",
    JobStatus.DONE: "Done",
    JobStatus.FAILED: "Failed",
    JobStatus.LOST: "Lost",
    JobStatus.UNKNOWN: "Outcome unknown",
}
BAR_WIDTH = 30
# Unicode's bidirectional controls: they reorder what follows them on screen.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Controls (C0, DEL, C1), lone surrogates, and line and paragraph separators.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def inert(text: object) -> str:
    """`text` with every character a terminal could act on written as a visible escape.

    For anything printed that came from outside (prompts, FoxAPI's words, paths, URLs):
    ESC, and so every ANSI or OSC sequence that could retitle or clear the terminal,
    becomes the four characters `\\x1b`; likewise BEL, newlines, C1 controls and bidi
    overrides.
    """
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in UNPRINTABLE_CATEGORIES or char in BIDI_CONTROLS
        else char
        for char in str(text)
    )


class _InertParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # Its messages quote what was typed, which may have been pasted from anywhere.
        super().error(inert(message))


class _InertFormatter(logging.Formatter):
    """Log lines (the engine's warnings quote FoxAPI) with outside text made inert."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(inert(line) for line in super().format(record).split("\n"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # What Python's last-resort handler would print (warnings and worse), made inert.
    to_terminal = logging.StreamHandler()
    to_terminal.setFormatter(_InertFormatter("%(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[to_terminal])
    if args.command == "emulator":
        return _emulator(args)
    studio = open_studio()
    try:
        if studio.is_demo:
            print("No FoxAPI key set: using the demo backend (nothing is billed).", file=sys.stderr)
        if args.command == "generate":
            return _generate(studio, args)
        if args.command == "jobs":
            return _jobs(studio, args.limit)
        return _sync(studio)
    except KeyboardInterrupt:
        print(
            "\nStopped waiting. Unfinished jobs carry on when the app or "
            "`python -m studio sync` runs next.",
            file=sys.stderr,
        )
        return 130
    finally:
        studio.close()


def _parser() -> argparse.ArgumentParser:
    parser = _InertParser(prog="python -m studio", description="Image Studio")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="generate or edit images and wait for them")
    generate.add_argument("prompt")
    generate.add_argument("--aspect-ratio", choices=ASPECT_RATIOS, metavar="RATIO")
    generate.add_argument("--format", choices=OUTPUT_FORMATS, dest="output_format")
    generate.add_argument(
        "-n", "--images", type=int, default=1, dest="num_outputs", help="1 to 4 (billed each)"
    )
    generate.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="URL_OR_FILE",
        help="an input image to edit (up to 3)",
    )
    jobs = commands.add_parser("jobs", help="list jobs and their states")
    jobs.add_argument("--limit", type=int, default=30)
    commands.add_parser("sync", help="resume every unfinished job and wait for it")
    emulator = commands.add_parser("emulator", help="run the local FoxAPI emulator")
    emulator.add_argument("--port", type=int, default=8765, help="default 8765")
    emulator.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    emulator.add_argument(
        "--estimated-time", type=float, default=6.0, help="seconds a task takes, about (6)"
    )
    emulator.add_argument(
        "--failure-rate", type=float, default=0.0, help="share of tasks that fail (0 to 1)"
    )
    emulator.add_argument("--api-key", help="require this bearer key (default: any key)")
    return parser


def _generate(studio: Studio, args: argparse.Namespace) -> int:
    fields = {
        "prompt": args.prompt,
        "num_outputs": args.num_outputs,
        "aspect_ratio": args.aspect_ratio,
        "output_format": args.output_format,
    }
    try:
        # Everything is checked before anything is uploaded or billed.
        paths = [Path(item) for item in args.image if Path(item).is_file()]
        files = [_read_image(path, studio) for path in paths]
        urls = [check_image_url(item) for item in args.image if not Path(item).is_file()]
        stand_ins = [f"https://upload.invalid/{index}" for index in range(len(files))]
        max_chars = studio.settings.studio_max_prompt_chars
        GenerationRequest.build(max_prompt_chars=max_chars, image_urls=urls + stand_ins, **fields)
        uploaded = [studio.engine.upload(image, studio.credentials) for image in files]
        request = GenerationRequest.build(
            max_prompt_chars=max_chars, image_urls=urls + uploaded, **fields
        )
        job = studio.engine.submit(request, studio.credentials)
    except InvalidRequest as exc:
        return _fail(f"{exc.field.replace('_', ' ').capitalize()}: {exc.message}")
    except InvalidImage as exc:
        return _fail(exc.message)
    except ValueError as exc:  # an input that is neither a file nor a web address
        return _fail(str(exc))
    except OSError as exc:  # a file that is there but cannot be read
        return _fail(f"“{exc.filename}” cannot be read: {exc.strerror or exc}.")
    except FoxAPIError as exc:  # OutcomeUnknown included: its message says it was not resent
        return _fail(exc.message)
    print(f"Sent: {request.num_outputs} image(s) billed.", file=sys.stderr)
    _wait(studio, [job.id])
    return _report(studio, studio.store.job(job.id))


def _read_image(path: Path, studio: Studio) -> CleanImage:
    """A local file, checked; its size is checked before any of it is read."""
    max_bytes = studio.settings.studio_max_upload_bytes
    check_upload_size(path.stat().st_size, path.name, max_bytes)
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # never more, should the file grow meanwhile
    return clean_upload(
        data, path.name, max_bytes=max_bytes, max_pixels=studio.settings.studio_max_upload_pixels
    )


def _sync(studio: Studio) -> int:
    unfinished = studio.store.jobs(IN_FLIGHT)
    if not unfinished:
        print("Nothing to do: every job is finished.")
        return 0
    print(f"Resuming {len(unfinished)} unfinished job(s).", file=sys.stderr)
    _wait(studio, [job.id for job in unfinished])
    return max(_report(studio, studio.store.job(job.id)) for job in unfinished)


def _wait(studio: Studio, job_ids: list[str]) -> None:
    """Draw a progress bar until every job has left flight."""
    while True:
        jobs = [studio.store.job(job_id) for job_id in job_ids]
        _draw_progress(studio, jobs)
        if not any(job.in_flight for job in jobs):
            print(file=sys.stderr)
            return
        time.sleep(0.25)


def _draw_progress(studio: Studio, jobs: list[JobRecord]) -> None:
    progress = sum(job.progress for job in jobs) / len(jobs)
    filled = round(BAR_WIDTH * progress / 100)
    waiting = [job for job in jobs if not studio.engine.has_credentials(job.key_id)]
    words = "Waiting for the API key" if waiting else _status_words(jobs[0])
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    print(f"\r[{bar}] {progress:3.0f}%  {words:<30}", end="", file=sys.stderr, flush=True)


def _report(studio: Studio, job: JobRecord) -> int:
    if job.status is not JobStatus.DONE:
        return _fail(f"{STATUS_WORDS[job.status]}: {job.error_message or 'no reason given'}")
    for image in studio.store.job_images(job.id):
        if image.status is ImageStatus.ARCHIVED and image.file_path:
            print(inert(studio.archive.path(image.file_path).resolve()))
        else:
            print(f"(image {image.position + 1} expired before it could be saved)")
    return 0


def _jobs(studio: Studio, limit: int) -> int:
    jobs = studio.store.jobs(limit=limit)
    if not jobs:
        print('No jobs yet. Try: python -m studio generate "a red fox in the snow"')
        return 0
    for job in jobs:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        prompt = inert(job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…")
        print(f"{created}  {_status_words(job):<18} {job.request.num_outputs}x  {prompt}")
    return 0


def _status_words(job: JobRecord) -> str:
    if job.status is JobStatus.RUNNING:
        return f"Generating {job.progress}%"
    return STATUS_WORDS[job.status]


def _emulator(args: argparse.Namespace) -> int:
    config = EmulatorConfig(
        estimated_time=args.estimated_time, failure_rate=args.failure_rate, api_key=args.api_key
    )
    print(
        f"FoxAPI emulator on http://{inert(args.host)}:{args.port} (Ctrl-C stops it)",
        file=sys.stderr,
    )
    serve(config, host=args.host, port=args.port)
    return 0


def _fail(message: str) -> int:
    # Every failure message may quote outside text: FoxAPI's words, a file name, a URL.
    print(inert(message), file=sys.stderr)
    return 1
