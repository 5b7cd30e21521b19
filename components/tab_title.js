// The tab's title tells a person in another tab what the studio is doing: "2 running"
// while jobs are in flight, "4 ready" for images that arrived while they were not
// looking (the tab hidden or the window without focus), until they look; and "3 from
// reviewers" for votes, comments and finished reviews on their boards since they last
// opened each board, which also shows as a badge on Boards in the sidebar.
// Streamlit sets the title itself on every run; the observer puts the count back.
// Two instances share the one state: the frame's (jobs and images, each full run) and
// the reviewers' (news, also between runs); each hands over only its own numbers.
const PART = String.raw`\d+ (?:ready|running|from reviewers)`;
const PREFIX = new RegExp(`^${PART}(?:, ${PART})* – `);
const BADGE_ID = "image-studio-board-news";

function state() {
  if (!window.__imageStudioTab) {
    const tab = { running: 0, images: null, seen: null, news: 0, observer: null };
    const looked = () => {
      if (looking()) {
        tab.seen = tab.images;
        show(tab);
      }
    };
    document.addEventListener("visibilitychange", looked);
    window.addEventListener("focus", looked);
    window.__imageStudioTab = tab;
  }
  return window.__imageStudioTab;
}

function looking() {
  return document.visibilityState === "visible" && document.hasFocus();
}

function show(tab) {
  const base = document.title.replace(PREFIX, "");
  const ready = Math.max(0, (tab.images ?? 0) - (tab.seen ?? 0));
  const parts = [];
  if (tab.news > 0) parts.push(`${tab.news} from reviewers`);
  if (ready > 0) parts.push(`${ready} ready`);
  if (tab.running > 0) parts.push(`${tab.running} running`);
  const title = parts.length ? `${parts.join(", ")} – ${base}` : base;
  if (document.title !== title) document.title = title;
}

// A badge drawn by CSS after the Boards link's text: it survives Streamlit redrawing the
// navigation, and its alternative text gives the link's name the words, not a number.
function badge(news) {
  let style = document.getElementById(BADGE_ID);
  if (news <= 0) {
    style?.remove();
    return;
  }
  if (!style) {
    style = document.createElement("style");
    style.id = BADGE_ID;
    document.head.append(style);
  }
  const words = `${news} new from reviewers`;
  // On Boards in the navigation, and on the button that opens a folded sidebar (a phone's).
  style.textContent = `[data-testid="stSidebarNav"] a[href$="/boards"]::after,
  [data-testid="stExpandSidebarButton"]::after {
    content: "${news}" / "${words}";
    margin-left: auto; padding: 0 0.45rem; min-width: 1.3rem; box-sizing: border-box;
    border-radius: 999px; text-align: center; font-size: 0.8rem; line-height: 1.3rem;
    font-weight: 600; background: var(--studio-accent, #A8380B);
    color: var(--studio-on-accent, #FFFFFF);
  }
  [data-testid="stExpandSidebarButton"] { position: relative; overflow: visible; }
  [data-testid="stExpandSidebarButton"]::after { position: absolute; top: -0.4rem; right: -0.9rem; }`;
}

export default function (component) {
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  if (!data) return;
  const tab = state();
  if ("news" in data) {
    tab.news = data.news;
    badge(data.news);
  }
  if ("images" in data) {
    tab.running = data.running;
    tab.images = data.images;
    if (tab.seen === null || tab.seen > data.images || looking()) tab.seen = data.images;
  }
  show(tab);
  if (!tab.observer) {
    tab.observer = new MutationObserver(() => show(tab));
    tab.observer.observe(document.head, { subtree: true, childList: true, characterData: true });
  }
}
