// Presenter mode's auto-advance: while playing, asks for the next image every `every`
// seconds, naming the image it was shown on (so a step that raced it is not doubled).
// Streamlit calls this again whenever the data changes (a step, Play or Pause, another
// interval) without the previous cleanup, so the one timer per component lives here and
// each call starts it again: the full interval after every step, as a presenter expects.
const timers = new Map();

export default function (component) {
  const { key, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  clearInterval(timers.get(key));
  timers.delete(key);
  if (data && data.every > 0) {
    const at = data.at;
    timers.set(
      key,
      setInterval(() => setTriggerValue("advance", at), data.every * 1000),
    );
  }
  return () => {
    clearInterval(timers.get(key));
    timers.delete(key);
  };
}
