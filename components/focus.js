// Put the keyboard focus back on the button that opened a dialog, once it has closed.
export default function (component) {
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  if (!data || !data.key) return;
  const target = () => document.querySelector(`div.st-key-${CSS.escape(data.key)} button`);
  let tries = 0;
  const timer = setInterval(() => {
    const button = target();
    tries += 1;
    if (button && !document.querySelector('[role="dialog"]')) {
      button.focus();
      clearInterval(timer);
    } else if (tries > 40) {
      clearInterval(timer);
    }
  }, 50);
  return () => clearInterval(timer);
}
