// An image pasted anywhere on the page (Ctrl+V, Cmd+V) goes to the script as an upload.
// Only image files are taken: pasting text into a field works as it always did. The
// bytes go as base64 text; the studio checks them like any upload (PNG, JPEG, WebP).
const MAX_FILES = 3;

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export default function (component) {
  const { setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  const onPaste = async (event) => {
    const files = [...(event.clipboardData?.files || [])].filter((file) =>
      file.type.startsWith("image/"),
    );
    if (!files.length) return;
    event.preventDefault();
    try {
      const pasted = await Promise.all(
        files.slice(0, MAX_FILES).map(async (file, index) => ({
          name: file.name || `pasted-image-${index + 1}.png`,
          data: await base64Of(file),
        })),
      );
      setTriggerValue("pasted", { files: pasted, at: Date.now() });
    } catch (error) {
      setTriggerValue("pasted", { files: [], failed: true, at: Date.now() });
    }
  };
  document.addEventListener("paste", onPaste);
  return () => document.removeEventListener("paste", onPaste);
}
