// Left and Right arrows anywhere on the page, except while typing; and a finger's swipe
// across the page (to the left for the next image, as a phone's photos do). Keys are heard
// before the dialog hears them: Streamlit's own button shortcuts never see keys pressed
// inside a dialog. The pictures a step would show are fetched ahead, so the next one
// appears at once.
// Streamlit calls this again whenever the data changes (a dialog step sends new pictures)
// and calls the returned cleanup only once the element goes: so the listeners from the
// call before are taken off here, or each step would add more.
const SWIPE_PX = 50; // shorter, or more up-and-down than across, is a tap or a scroll
const PASSIVE = { capture: true, passive: true };

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  for (const address of (data && data.prefetch) || []) {
    new Image().src = address;
  }
  // A switch or checkbox (Captions, say) has no use for Left and Right: those still step.
  const typing = (element) =>
    element &&
    ((element.tagName === "INPUT" && element.type !== "checkbox") ||
      ["TEXTAREA", "SELECT"].includes(element.tagName) ||
      element.isContentEditable);
  const onKey = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (event.key === "ArrowLeft") setTriggerValue("step", "previous");
    if (event.key === "ArrowRight") setTriggerValue("step", "next");
  };
  // Only watched, never prevented (passive): the browser still scrolls a vertical swipe.
  let start = null;
  const onTouchStart = (event) => {
    const fieldTouched = event.target.closest?.("input, textarea, select, [role='slider']");
    start =
      event.touches.length === 1 && !fieldTouched
        ? { x: event.touches[0].clientX, y: event.touches[0].clientY }
        : null; // a second finger is a pinch, not a swipe
  };
  const onTouchEnd = (event) => {
    if (!start || event.touches.length > 0) return;
    const end = event.changedTouches[0];
    const across = end.clientX - start.x;
    const down = end.clientY - start.y;
    start = null;
    if (Math.abs(across) < SWIPE_PX || Math.abs(across) <= Math.abs(down)) return;
    setTriggerValue("step", across < 0 ? "next" : "previous");
  };
  const onTouchCancel = () => {
    start = null;
  };
  const stopListening = () => {
    window.removeEventListener("keydown", onKey, true);
    window.removeEventListener("touchstart", onTouchStart, true);
    window.removeEventListener("touchend", onTouchEnd, true);
    window.removeEventListener("touchcancel", onTouchCancel, true);
  };
  parentElement.studioStopListening?.();
  parentElement.studioStopListening = stopListening;
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("touchstart", onTouchStart, PASSIVE);
  window.addEventListener("touchend", onTouchEnd, PASSIVE);
  window.addEventListener("touchcancel", onTouchCancel, PASSIVE);
  return stopListening;
}
