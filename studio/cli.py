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
from urllib.parse import urlsplit

from studio.credentials import Backend
from studio.db import database
from studio.db.database import DatabaseError
from studio.emulator import EmulatorConfig, serve
from studio.errors import DatabaseUnavailable, FoxAPIError, InvalidImage, StorageError
from studio.formats import OUTPUT_FORMATS
from studio.people import NotAllowed, SpendLimitReached
from studio.records import JobRecord
from studio.request import ASPECT_RATIOS, InvalidRequest
from studio.runtime import open_studio
from studio.service import EditInput, Studio, Sweep, SweepResult
from studio.settings import Settings
from studio.states import JobStatus, status_words

BAR_WIDTH = 30
# Unicode's bidirectional controls: they reorder what follows them on screen.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Controls (C0, DEL, C1), lone surrogates, and line and paragraph separators.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
NOTHING_LOST = (
    "Nothing is lost: unfinished jobs carry on when the app or `python -m studio sync` runs next."
)


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
    if args.command == "db":
        return _db(args.action)
    try:
        studio = open_studio()
    except DatabaseError as exc:
        return _fail(exc.message)
    except StorageError as exc:  # a bucket that is missing, unreachable or refuses the keys
        return _fail(str(exc))
    service = studio.service
    try:
        if args.as_email:
            try:
                service = service.acting_as(args.as_email)
            except NotAllowed as exc:
                return _fail(exc.message)
        if service.jobs.server_credentials.backend is Backend.DEMO:
            print("No FoxAPI key set: using the demo backend (nothing is billed).", file=sys.stderr)
        if args.command == "generate":
            return _generate(service, args)
        if args.command == "jobs":
            return _jobs(service, args.limit)
        if args.command == "export":
            return _export(service, args)
        return _sync(service)
    except KeyboardInterrupt:
        print(
            "\nStopped waiting. Unfinished jobs carry on when the app or "
            "`python -m studio sync` runs next.",
            file=sys.stderr,
        )
        return 130
    except DatabaseUnavailable as exc:  # it stopped answering while the command ran
        # One line says it all: the engine's own notes on its way out would only repeat it.
        logging.disable(logging.WARNING)
        print(file=sys.stderr)  # off the progress bar's line
        return _fail(f"{exc.message} {NOTHING_LOST}")
    finally:
        studio.close()


def _parser() -> argparse.ArgumentParser:
    parser = _InertParser(prog="python -m studio", description="Image Studio")
    parser.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="act as this person: their jobs, their daily limit (default: the operator)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="generate or edit images and wait for them")
    generate.add_argument("prompt", help="`{a|b}` sends one job per variant, as the form does")
    generate.add_argument(
        "--aspect-ratio",
        action="append",
        default=[],
        choices=ASPECT_RATIOS,
        metavar="RATIO",
        dest="aspect_ratios",
        help="repeat it for a sweep over several ratios",
    )
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
    generate.add_argument(
        "--yes", action="store_true", help="send a sweep over the studio's confirmation size"
    )
    jobs = commands.add_parser("jobs", help="list jobs and their states")
    jobs.add_argument("--limit", type=int, default=30)
    commands.add_parser("sync", help="resume every unfinished job and wait for it")
    export = commands.add_parser(
        "export",
        help="write jobs' images (metadata and content credentials inside) and a manifest.json",
    )
    export.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="as `jobs` shows them")
    export.add_argument("--last", type=int, metavar="N", help="the N most recent jobs")
    export.add_argument("--to", type=Path, required=True, metavar="FOLDER", dest="folder")
    db = commands.add_parser("db", help="the database's schema: where it stands, or upgrade it")
    db.add_argument(
        "action",
        choices=("current", "upgrade"),
        help="current: say its revision; upgrade: bring it to this version's (as a start does)",
    )
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


def _generate(service: Studio, args: argparse.Namespace) -> int:
    try:
        # Everything is checked before anything is uploaded or billed.
        inputs = [_edit_input(service, item) for item in args.image]
        result: SweepResult | None
        if inputs:
            if args.aspect_ratios:
                return _fail("An edit keeps its input's shape: leave out --aspect-ratio.")
            edit = service.jobs.edit(
                prompt=args.prompt,
                num_outputs=args.num_outputs,
                output_format=args.output_format,
                inputs=inputs,
            )
            result = SweepResult([service.jobs.send(edit, service.jobs.server_credentials)])
        else:
            sweep = service.jobs.sweep(
                prompt=args.prompt,
                aspect_ratios=args.aspect_ratios or [None],
                num_outputs=args.num_outputs,
                output_format=args.output_format,
            )
            result = _send_sweep(service, sweep, confirmed=args.yes)
    except SpendLimitReached as exc:
        return _fail(exc.message)
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
    if result is None:
        return 1  # not confirmed: nothing sent, the reason printed
    images = sum(job.request.num_outputs for job in result.jobs)
    sent = f"Sent: {images} image{'' if images == 1 else 's'}"
    if service.jobs.server_credentials.backend is Backend.DEMO:
        print(f"{sent}, drawn by the demo backend (not billed).", file=sys.stderr)
    else:
        print(f"{sent}, billed by FoxAPI.", file=sys.stderr)
    _wait(service, [job.id for job in result.jobs])
    reported = max(_report(service, job.id) for job in result.jobs)
    return 1 if result.stopped_by is not None else reported


def _send_sweep(service: Studio, sweep: Sweep, *, confirmed: bool) -> SweepResult | None:
    """The price first, then the jobs, as the Generate form sends them; a sweep over the
    confirmation size only with --yes (None without). A refusal before the first job is
    raised; one midway keeps the jobs already sent, and is printed."""
    plan = sweep.plan
    if plan.is_sweep:
        print(f"This sweep: {plan.price_line()}.", file=sys.stderr)
    limit = service.settings.studio_confirm_above_images
    if plan.images > limit and not confirmed:
        _fail(f"It bills {plan.images} images, more than {limit} at once: add --yes to send it.")
        return None
    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)
    if result.stopped_by is not None:
        if not result.jobs:
            raise result.stopped_by
        stopped = f"Stopped after {len(result.jobs)} job(s): {result.stopped_by.message}"
        print(inert(stopped), file=sys.stderr)
    return result


def _edit_input(service: Studio, item: str) -> EditInput:
    """A web address (checked as one), else a file on this computer."""
    if urlsplit(item).scheme.lower() in ("http", "https"):
        return EditInput.from_url(item)
    path = Path(item)
    try:
        is_file = path.is_file()
    except OSError:  # longer than any path (ENAMETOOLONG): it cannot be a file
        is_file = False
    if is_file:
        return service.gallery.file_input(path)
    return EditInput.from_url(item)


def _sync(service: Studio) -> int:
    unfinished = service.jobs.in_flight()
    if not unfinished:
        print("Nothing to do: every job is finished.")
        return 0
    print(f"Resuming {len(unfinished)} unfinished job(s).", file=sys.stderr)
    _wait(service, [job.id for job in unfinished])
    return max(_report(service, job.id) for job in unfinished)


def _wait(service: Studio, job_ids: list[str]) -> None:
    """Draw a progress bar until every job has left flight."""
    while True:
        jobs = service.jobs.jobs(job_ids)
        _draw_progress(service, jobs)
        if not any(job.in_flight for job in jobs):
            print(file=sys.stderr)
            return
        time.sleep(0.25)


def _draw_progress(service: Studio, jobs: list[JobRecord]) -> None:
    progress = sum(job.progress for job in jobs) / max(len(jobs), 1)
    filled = round(BAR_WIDTH * progress / 100)
    waiting = [job for job in jobs if not service.jobs.has_key_for(job)]
    words = "Waiting for the API key" if waiting or not jobs else inert(_status_words(jobs[0]))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    print(f"\r[{bar}] {progress:3.0f}%  {words:<30}", end="", file=sys.stderr, flush=True)


def _report(service: Studio, job_id: str) -> int:
    job = service.jobs.job(job_id)
    if job is None:
        return _fail("The job is no longer on record.")
    if job.status is not JobStatus.DONE:
        words = _status_words(job)
        if job.status is JobStatus.UNKNOWN:
            words += f": {job.error_message or 'no reason given'}"
        return _fail(words)
    if job.error_message:  # a finished job's note: what it refused or did not keep
        print(inert(job.error_message), file=sys.stderr)
    saved = {image.position: image for image in service.gallery.saved_images(job.id)}
    for position in range(job.request.num_outputs):
        location = service.gallery.original_location(saved[position]) if position in saved else None
        if location is not None:
            print(inert(location))
        else:
            print(f"(image {position + 1} expired before it could be saved)")
    return 0


def _jobs(service: Studio, limit: int) -> int:
    jobs = service.jobs.recent_jobs(limit)
    if not jobs:
        print('No jobs yet. Try: python -m studio generate "a red fox in the snow"')
        return 0
    for job in jobs:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        prompt = job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…"
        words = _status_words(job)  # a failed job's words quote FoxAPI
        print(inert(f"{job.id}  {created}  {words:<18} {job.request.num_outputs}x  {prompt}"))
    return 0


def _export(service: Studio, args: argparse.Namespace) -> int:
    """The jobs named, or the last N, written to a folder as the gallery's zip holds them."""
    if not args.job_ids and not args.last:
        return _fail(
            "Name the jobs to export (their ids, as `python -m studio jobs` shows) or --last N."
        )
    if args.last is not None and args.last < 1:
        return _fail("--last takes a number of jobs, 1 or more.")
    job_ids = list(args.job_ids)
    if args.last:
        job_ids += [job.id for job in service.jobs.recent_jobs(args.last) if job.id not in job_ids]
    unknown = [job_id for job_id in args.job_ids if service.jobs.job(job_id) is None]
    if unknown:
        return _fail(f"No job with the id {unknown[0]} (see `python -m studio jobs`).")
    try:
        written = service.jobs.export_jobs(job_ids, args.folder)
    except OSError as exc:
        return _fail(f"Cannot write to {args.folder}: {exc.strerror or exc}.")
    images = len(written) - 1
    for path in written:
        print(inert(path))
    print(f"Exported {images} image(s) from {len(job_ids)} job(s).", file=sys.stderr)
    return 0


def _status_words(job: JobRecord) -> str:
    return status_words(job.status, progress=job.progress, error_message=job.error_message)


def _db(action: str) -> int:
    """For operators: the schema's revision, or an upgrade, without starting the studio."""
    engine = database.create_engine(Settings().database_url, pool_size=1)
    try:
        print(f"Database: {database.describe(engine)}")
        if action == "upgrade":
            before = database.upgrade(engine)
            if before.up_to_date:
                print(f"Already at revision {before.head}, the newest this version knows.")
            else:
                print(f"Upgraded from {before.current or 'no revision'} to {before.head}.")
            return 0
        found = database.revision(engine)
        if not found.known:
            return _fail(
                f"Revision {found.current}: newer than this version of the studio (which "
                f"knows up to {found.head}), so it will not open it."
            )
        if found.up_to_date:
            print(f"Revision {found.current}, the newest this version knows.")
        else:
            print(
                f"Revision {found.current or 'none (new, or from before migrations)'}; the next "
                f"start or `python -m studio db upgrade` brings it to {found.head}."
            )
        return 0
    except DatabaseError as exc:
        return _fail(exc.message)
    finally:
        engine.dispose()


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
