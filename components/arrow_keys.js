// Left and Right arrows anywhere on the page, except while typing. Listens before the
// dialog does: Streamlit's own button shortcuts never see keys pressed inside a dialog.
// The pictures a step would show are fetched ahead, so the next one appears at once.
// Streamlit calls this again whenever the data changes (a dialog step sends new pictures)
// and calls the returned cleanup only once the element goes: so the listener from the
// call before is taken off here, or each step would add one more.
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
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
  const before = parentElement.studioOnKey;
  if (before) window.removeEventListener("keydown", before, true);
  parentElement.studioOnKey = onKey;
  window.addEventListener("keydown", onKey, true);
  return () => window.removeEventListener("keydown", onKey, true);
}
