// A link out of a full-screen view that leaves in this tab (Streamlit opens every
// Markdown link in a new one, which would leave the presentation open behind), and
// Escape to leave, as in any slideshow. Escape still closes a menu or dialog first.
let leaving = { href: null, listening: false };

const inControl = (element) =>
  element?.closest?.(
    "input, textarea, select, [role='listbox'], [role='combobox'], [role='dialog'], [role='menu']",
  );

const onKey = (event) => {
  if (event.key !== "Escape" || event.defaultPrevented || !leaving.href) return;
  if (event.altKey || event.ctrlKey || event.metaKey || inControl(event.target)) return;
  if (document.querySelector("[role='listbox'], [role='dialog']")) return; // one is open
  window.location.assign(leaving.href);
};

export default function (component) {
  const { parentElement } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  const link = parentElement.querySelector("a");
  link.href = data.href;
  link.textContent = data.label;
  leaving.href = data.href;
  if (!leaving.listening) {
    window.addEventListener("keydown", onKey);
    leaving.listening = true;
  }
  return () => {
    window.removeEventListener("keydown", onKey);
    leaving = { href: null, listening: false };
  };
}
