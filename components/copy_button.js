// A labelled Copy link button: the text to the clipboard, and "Copied" said aloud.
// navigator.clipboard needs a secure page (https or localhost); on a plain-http network
// address the older selection copy stands in.
export default function (component) {
  const { parentElement } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  const button = parentElement.querySelector("button");
  const status = parentElement.querySelector("[role=status]");
  button.textContent = data.label;
  const fallback = () => {
    const area = document.createElement("textarea");
    area.value = data.text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  };
  const onClick = async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(data.text);
      copied = true;
    } catch {
      copied = fallback();
    }
    status.textContent = copied ? "Copied" : "Select the link above and copy it";
  };
  // Set, not added: Streamlit calls this again when the text changes (the image dialog's
  // next prompt), and only the newest text may be copied.
  button.onclick = onClick;
  status.textContent = "";
  return () => {
    if (button.onclick === onClick) button.onclick = null;
  };
}
