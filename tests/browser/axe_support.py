"""axe-core on a page in a real browser: its serious and critical violations, less those
in Streamlit's own markup, and the colour scheme the browser prefers."""

from __future__ import annotations

from typing import Literal

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.support import wait_until_idle

SERIOUS = ("serious", "critical")
# (axe rule, CSS class in the node's markup): Streamlit's markup, not ours.
STREAMLIT_OWN = {
    # st.toast renders role="dialog" with no accessible name; the app cannot name it.
    # (With two toasts up, axe names them by attribute, not class: so the markup is read.)
    ("aria-dialog-name", "stToast"),
}


def in_scheme(page: Page, scheme: Literal["light", "dark"]) -> None:
    """From now on the tab's browser prefers `scheme` (as a person's system setting would)."""
    page.emulate_media(color_scheme=scheme)


# Resolves once every finite CSS transition or animation on the page has ended (a
# button fading its colour in would otherwise be measured halfway), or after 2 s.
SETTLED = """() => Promise.race([
  Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map(a => a.finished.catch(() => null))),
  new Promise(done => setTimeout(done, 2000)),
])"""


def violations(page: Page) -> list[str]:
    """Serious and critical violations, one line each, less Streamlit's own, measured on
    the page as it settles: after the run, and after its colour transitions end."""
    wait_until_idle(page)
    page.evaluate(SETTLED)
    found = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            markup = node.get("html", "")
            if any(violation["id"] == rule and css in markup for rule, css in STREAMLIT_OWN):
                continue
            found.append(f"{violation['id']}: {target}: {markup}: {node.get('failureSummary')}")
    return found
