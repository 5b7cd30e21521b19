// A reviewer remembered in this browser for one review link: their name, and each
// comment as it is typed (kept before it is saved, so a reload does not lose it).
// Stored in localStorage under the link's key; nothing leaves the browser but what the
// page reads back once, on its first run.
export default function (component) {
  const { parentElement, setStateValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  const storageKey = `image-studio-review:${data.link}`;
  const read = () => {
    try {
      const found = JSON.parse(window.localStorage.getItem(storageKey) || "{}");
      return { name: typeof found.name === "string" ? found.name : "", drafts: found.drafts || {} };
    } catch {
      return { name: "", drafts: {} };
    }
  };
  const write = (memory) => {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(memory));
    } catch {
      // Storage full or turned off: the reviewer is asked their name again, no more.
    }
  };
  if (!data.restored) {
    setStateValue("remembered", read());
  } else if (data.name !== read().name) {
    write({ ...read(), name: data.name });
  }
  // A comment box is labelled "Comment on image N (optional)": keep what is typed in it.
  const onInput = (event) => {
    const box = event.target;
    if (!box || box.tagName !== "TEXTAREA") return;
    const number = (box.getAttribute("aria-label") || "").match(/^Comment on image (\d+)/);
    if (!number) return;
    const memory = read();
    write({ ...memory, drafts: { ...memory.drafts, [number[1]]: box.value } });
  };
  // Streamlit calls this again when the data changes (the name) but calls the cleanup
  // only once the element goes: the listener from the call before comes off here.
  const before = parentElement.studioOnInput;
  if (before) document.removeEventListener("input", before, true);
  parentElement.studioOnInput = onInput;
  document.addEventListener("input", onInput, true);
  return () => document.removeEventListener("input", onInput, true);
}
