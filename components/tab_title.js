// The tab's title tells a person in another tab what the studio is doing: "2 running"
// while jobs are in flight, "4 ready" for images that arrived while they were not
// looking (the tab hidden or the window without focus), until they look.
// Streamlit sets the title itself on every run; the observer puts the count back.
const PREFIX = /^\d+ (ready|running)(, \d+ (ready|running))? – /;

function state() {
  if (!window.__imageStudioTab) {
    const tab = { running: 0, images: null, seen: null, observer: null };
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
  if (ready > 0) parts.push(`${ready} ready`);
  if (tab.running > 0) parts.push(`${tab.running} running`);
  const title = parts.length ? `${parts.join(", ")} – ${base}` : base;
  if (document.title !== title) document.title = title;
}

export default function (component) {
  const { data } = component;
  if (!data) return;
  const tab = state();
  tab.running = data.running;
  tab.images = data.images;
  if (tab.seen === null || tab.seen > data.images || looking()) tab.seen = data.images;
  show(tab);
  if (!tab.observer) {
    tab.observer = new MutationObserver(() => show(tab));
    tab.observer.observe(document.head, { subtree: true, childList: true, characterData: true });
  }
}
