// The notice after a delete, at the bottom of the window: its message, Undo, and a close
// button. It hides itself after `seconds` (the countdown pauses while the pointer or the
// keyboard is on it); Ctrl+Z or Cmd+Z presses Undo while it shows, unless the keyboard is
// in a text field (there it undoes typing). Streamlit calls this again on every rerun that
// draws it: a notice already timed (the same token) keeps its own countdown.
function typing(element) {
  return (
    element &&
    ((element.tagName === "INPUT" && !["checkbox", "radio", "button"].includes(element.type)) ||
      ["TEXTAREA", "SELECT"].includes(element.tagName) ||
      element.isContentEditable)
  );
}

function memory() {
  if (!window.__imageStudioUndo) window.__imageStudioUndo = {};
  return window.__imageStudioUndo; // token -> when first shown (ms), or 0 once done
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  if (!data) return;
  const shown = memory();
  if (!(data.token in shown)) shown[data.token] = Date.now();
  let box = parentElement.querySelector(".notice");
  if (!box || box.dataset.token !== data.token) {
    parentElement.studioStop?.();
    box?.remove();
    box = document.createElement("div");
    box.className = "notice";
    box.dataset.token = data.token;
    box.setAttribute("role", "status");
    const text = document.createElement("span");
    text.className = "message";
    text.textContent = data.message;
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "undo";
    undo.textContent = "Undo";
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘Z" : "Ctrl+Z";
    hint.setAttribute("aria-hidden", "true");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss");
    close.title = `Dismiss (the images stay in the Trash ${data.trash_days} days)`;
    box.append(text, undo, hint, close);
    parentElement.append(box);

    // Drawn again after a page switch: the countdown goes on from where it was.
    let left = shown[data.token] ? data.seconds * 1000 - (Date.now() - shown[data.token]) : 0;
    let paused = false;
    let done = false;
    const hide = () => {
      done = true;
      shown[data.token] = 0;
      box.hidden = true;
      stop();
    };
    const press = () => {
      if (done) return;
      hide();
      setTriggerValue("undo", data.token);
    };
    const tick = setInterval(() => {
      if (paused || document.hidden) return;
      left -= 250;
      if (left <= 0) hide();
    }, 250);
    const onKey = (event) => {
      const mod = event.ctrlKey || event.metaKey;
      if (!mod || event.shiftKey || event.altKey || event.key.toLowerCase() !== "z") return;
      if (typing(event.target)) return;
      event.preventDefault();
      press();
    };
    const pause = () => {
      paused = true;
    };
    const resume = () => {
      paused = box.matches(":hover") || box.contains(document.activeElement);
    };
    undo.addEventListener("click", press);
    close.addEventListener("click", hide);
    box.addEventListener("mouseenter", pause);
    box.addEventListener("mouseleave", resume);
    box.addEventListener("focusin", pause);
    box.addEventListener("focusout", () => setTimeout(resume, 0));
    window.addEventListener("keydown", onKey, true);
    const stop = () => {
      clearInterval(tick);
      window.removeEventListener("keydown", onKey, true);
    };
    parentElement.studioStop = stop;
    if (left <= 0) hide();
  }
  return () => parentElement.studioStop?.();
}
