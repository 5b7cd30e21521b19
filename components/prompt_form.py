"""The Generate and Edit forms: what the user asks for, checked by the core, sent once.

Form values stay after a submit and after an error, so the next variant is one edit
away. Other pages fill them in ("Reuse settings") by setting the same session keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import streamlit as st

from components import confirmation, frame, image_pickers, request_fields, styles, submission
from components.state import SessionValue
from components.text import excerpt
from studio import formats
from studio.credentials import Backend, Credentials
from studio.request import DEFAULT_ASPECT_RATIO, GenerationRequest, InvalidRequest, Mode
from studio.service import EditInput, Studio, Submission, Sweep

GENERATE_PROMPT = "generate_prompt"
GENERATE_RATIO = "generate_ratio"
GENERATE_FORMAT = "generate_format"
GENERATE_COUNT = "generate_count"
GENERATE_MORE = "generate_more_ratios"
GENERATE_SEND = "generate-send"
EDIT_PROMPT = "edit_prompt"
EDIT_FORMAT = "edit_format"
EDIT_COUNT = "edit_count"


# A sweep over the confirmation threshold, checked and priced, waiting for a yes.
_awaiting_confirmation: SessionValue[Sweep | None] = SessionValue("sweep_to_confirm", lambda: None)
# The images the Generate form's billing line said on its last run: what the person saw.
_images_shown: SessionValue[int | None] = SessionValue("generate_images_shown", lambda: None)


def generate_form(credentials: Credentials) -> None:
    # One column, the prompt and its button first and the settings under them: Generate
    # is on a phone's first screen, and in the studio's left column it never moves.
    prompt_part = st.container()
    aspect_ratio = request_fields.ratio_picker(GENERATE_RATIO)
    ratios = [aspect_ratio, *request_fields.more_ratios_picker(GENERATE_MORE, aspect_ratio)]
    output_format = request_fields.format_picker(GENERATE_FORMAT)
    count = request_fields.count_picker(GENERATE_COUNT)
    chosen_styles = styles.picker()
    styles.manager()
    with prompt_part:
        # No form: the prompt reaches the server when it is left or Ctrl+Enter is pressed,
        # so the line below prices its variants before the click. Ctrl+Enter is also the
        # button's shortcut, and the prompt's value comes in first.
        st.session_state.setdefault(GENERATE_PROMPT, "")
        prompt = st.text_area(
            "Prompt",
            key=GENERATE_PROMPT,
            height=140,
            placeholder="e.g. A red fox curled up in fresh snow, soft morning light",
            help=(
                "Describe the image. Ctrl+Enter (Cmd+Enter on a Mac) sends it. "
                "Write {red|blue} to try variants: each is a job of its own."
            ),
            persist_state="session",
        )
        styled = frame.studio().gallery.with_styles(prompt, chosen_styles)
        images_shown = _images_shown.get()
        _images_shown.set(
            request_fields.billed_line(count, credentials, ratios=ratios, prompt=styled)
        )
        submitted = st.button(
            "Generate",
            key=GENERATE_SEND,
            type="primary",
            icon=":material/auto_awesome:",
            shortcut="Ctrl+Enter",
        )
        if submitted:
            _send_generation(credentials, styled, ratios, count, output_format, images_shown)
        else:
            submission.show_send_outcome("generate")
            _confirm_sweep(credentials)
        submission.show_feedback("generate")
        # Under the button: appearing after the first run, it moves nothing above it.
        _recent_prompts("generate", GENERATE_PROMPT)


def _send_generation(
    credentials: Credentials,
    prompt: str,
    ratios: list[str],
    count: int,
    output_format: str | None,
    images_shown: int | None,
) -> None:
    """One job, or a sweep within the confirmation threshold, sent; else confirmed first.

    A click that would bill more images than the form last said (a prompt typed and sent
    at once, before its variants were priced) is confirmed first too.
    """
    service = frame.studio()
    waiting = _awaiting_confirmation.get()
    _awaiting_confirmation.clear()
    try:
        sweep = service.jobs.sweep(
            prompt=prompt, aspect_ratios=ratios, num_outputs=count, output_format=output_format
        )
    except InvalidRequest as exc:
        submission.invalid("generate", exc)
        return
    # Pressed again (a double click) while it waits: still no yes.
    again = waiting is not None and waiting.fingerprint(credentials) == sweep.fingerprint(
        credentials
    )
    # Ratios and the image count show in their own widgets; only `{a|b}` variants can
    # multiply the bill unseen. (A rerun cut short by a quick click may have left the line
    # a step behind the widgets: that alone is no reason to ask.)
    variants = len(sweep.plan.prompts) > 1
    unseen = variants and (images_shown is None or sweep.plan.images > images_shown)
    if again or unseen or confirmation.above_threshold(sweep.plan.images):
        _awaiting_confirmation.set(sweep)
        _confirm_sweep(credentials)
    elif not sweep.plan.is_sweep:
        single = sweep.submissions[0]
        submission.send_once(
            "generate",
            single.fingerprint(credentials),
            lambda: service.jobs.send(single, credentials),
        )
    else:
        _send_sweep(sweep, credentials)


def _send_sweep(sweep: Sweep, credentials: Credentials) -> None:
    service = frame.studio()
    submission.send_once(
        "generate",
        sweep.fingerprint(credentials),
        lambda: service.jobs.send_sweep(sweep, credentials),
    )


def _confirm_sweep(credentials: Credentials) -> None:
    """A sweep over the threshold (or priced only now) waits here for a yes, priced in full."""
    sweep = _awaiting_confirmation.get()
    if sweep is None:
        return
    confirmation.ask(
        key="generate-sweep",
        jobs=len(sweep.submissions),
        images=sweep.plan.images,
        price=sweep.plan.price_line(),
        sweep=sweep.plan.is_sweep,
        demo=credentials.backend is Backend.DEMO,
        on_confirm=partial(_confirmed, credentials),
        on_cancel=_awaiting_confirmation.clear,
    )


def _confirmed(credentials: Credentials) -> None:
    # Taken out first: a second click of the same button finds nothing to send.
    sweep = _awaiting_confirmation.get()
    _awaiting_confirmation.clear()
    if sweep is not None:
        _send_sweep(sweep, credentials)


def edit_form(credentials: Credentials) -> None:
    # The change and its button first, its settings under them (drawn first: the button's
    # price line counts the images they ask for).
    change_part = st.container()
    output_format = request_fields.format_picker(EDIT_FORMAT)
    count = request_fields.count_picker(EDIT_COUNT)
    st.caption("An edit keeps the shape of its input image, so there is no aspect ratio here.")
    with change_part:
        with st.form("edit", border=False):
            st.session_state.setdefault(EDIT_PROMPT, "")
            prompt = st.text_area(
                "Describe the change",
                key=EDIT_PROMPT,
                height=120,
                placeholder="e.g. Make it night time and add falling snow",
                help="Say what to change in the input images. Ctrl+Enter (Cmd+Enter) sends it.",
                persist_state="session",
            )
            request_fields.billed_line(count, credentials)
            submitted = st.form_submit_button("Apply edit", type="primary", icon=":material/edit:")
        if submitted:
            _send(
                "edit",
                credentials,
                lambda service: service.jobs.edit(
                    prompt=prompt,
                    num_outputs=count,
                    output_format=output_format,
                    inputs=image_pickers.chosen(),
                ),
                labels={"prompt": "Describe the change"},
            )
        else:
            submission.show_send_outcome("edit")
        submission.show_feedback("edit")
        _recent_prompts("edit", EDIT_PROMPT)


def _recent_prompts(scope: str, prompt_key: str) -> None:
    """Prompts used before, most recent first; typing in the box searches them."""
    recent = frame.studio().jobs.recent_prompts()
    if not recent:
        return
    st.selectbox(
        "Recent prompts",
        recent,
        index=None,
        key=f"{scope}-recent-prompt",
        placeholder="Type to search the prompts you used before",
        format_func=lambda prompt: excerpt(prompt, 100),
        on_change=_use_recent,
        args=(f"{scope}-recent-prompt", prompt_key),
    )


def _use_recent(choice_key: str, prompt_key: str) -> None:
    chosen = st.session_state.get(choice_key)
    if chosen:
        st.session_state[prompt_key] = chosen
    st.session_state[choice_key] = None


def _send(
    scope: str,
    credentials: Credentials,
    check: Callable[[Studio], Submission],
    *,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Check the request (nothing is uploaded or billed before), then send it once."""
    service = frame.studio()
    try:
        checked = check(service)
    except InvalidRequest as exc:
        submission.invalid(scope, exc, labels=labels)
        return
    sent_links = image_pickers.sent_links()
    submission.send_once(
        scope,
        checked.fingerprint(credentials),
        lambda: service.jobs.send(checked, credentials, sent_links=sent_links),
    )


# Filling the forms from elsewhere ------------------------------------------------


def prefill_generate(request: GenerationRequest) -> None:
    st.session_state[GENERATE_PROMPT] = request.prompt
    st.session_state[GENERATE_RATIO] = request.aspect_ratio or DEFAULT_ASPECT_RATIO
    st.session_state[GENERATE_FORMAT] = formats.form_choice(request.output_format)
    st.session_state[GENERATE_COUNT] = request.num_outputs


def prefill_edit(request: GenerationRequest, inputs: Sequence[EditInput]) -> None:
    st.session_state[EDIT_PROMPT] = request.prompt
    st.session_state[EDIT_FORMAT] = formats.form_choice(request.output_format)
    st.session_state[EDIT_COUNT] = request.num_outputs
    image_pickers.replace(inputs)


def prefill_from(request: GenerationRequest) -> str:
    """Fill the form a request came from; return that page's file for st.switch_page."""
    if request.mode is Mode.EDIT:
        prefill_edit(request, [EditInput.from_url(url) for url in request.image_urls])
        return "pages/edit.py"
    prefill_generate(request)
    return "pages/generate.py"
