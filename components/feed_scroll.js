// Bring the feed's newest submission into view when it arrives, and again when its
// images do: on a phone the feed sits under the controls. A card already in view is left
// where it is (at desktop widths it always is), and the page as first loaded never moves.
const TRIES = 40;
const TRY_MILLISECONDS = 50;

function memory() {
  if (!window.__imageStudioFeed) window.__imageStudioFeed = {};
  return window.__imageStudioFeed;
}

function inView(element) {
  const box = element.getBoundingClientRect();
  return box.top >= 0 && box.top < window.innerHeight * 0.5;
}

export default function (component) {
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  if (!data) return;
  const seen = memory();
  const first = !(data.feed in seen);
  const changed = seen[data.feed] !== data.mark;
  seen[data.feed] = data.mark;
  if (first || !changed || !data.target) return;
  let tries = 0;
  const timer = setInterval(() => {
    const card = document.querySelector(`.st-key-${CSS.escape(data.target)}`);
    tries += 1;
    if (card && card.getBoundingClientRect().height > 0) {
      clearInterval(timer);
      if (!inView(card)) {
        const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        card.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
      }
    } else if (tries > TRIES) {
      clearInterval(timer);
    }
  }, TRY_MILLISECONDS);
  return () => clearInterval(timer);
}
