function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60), rest = String(seconds % 60).padStart(2, "0");
  return `${minutes} min ${rest} s`;
}

function text(tag, className, value) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = value;
  return element;
}

function draw(root, data, states, started) {
  root.replaceChildren();
  for (const job of data.jobs) {
    const state = states.get(job.id) || job;
    const card = document.createElement("section");
    card.className = "job";
    card.setAttribute("aria-label", `Job: ${job.prompt}`);
    // Compact: the page around the area shows the prompt and settings already.
    if (!data.compact) card.append(text("p", "prompt", job.prompt), text("p", "settings", job.settings));
    const slots = document.createElement("div");
    slots.className = "slots";
    for (let index = 0; index < job.images; index++) {
      const slot = document.createElement("div");
      slot.className = "slot";
      slot.style.aspectRatio = `${job.width} / ${job.height}`;
      if (data.columns) {
        // As many a row as the images will have, each no wider than its height allows.
        slot.style.flex = `0 1 calc((100% - ${data.columns - 1} * 0.5rem) / ${data.columns})`;
        slot.style.maxWidth = `calc(var(--slot-height) * ${job.width} / ${job.height})`;
      }
      const track = document.createElement("div");
      track.className = "track";
      track.setAttribute("role", "progressbar");
      track.setAttribute("aria-label", `${state.words} (image ${index + 1} of ${job.images})`);
      track.setAttribute("aria-valuemin", "0");
      track.setAttribute("aria-valuemax", "100");
      track.setAttribute("aria-valuenow", String(state.progress));
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = `${state.progress}%`;
      track.append(bar);
      slot.append(text("p", "words", state.words), track);
      slots.append(slot);
    }
    card.append(slots);
    const elapsed = state.elapsed + (Date.now() - started) / 1000;
    let timing = `Elapsed ${duration(elapsed)}`;
    if (state.estimated) timing += ` · usually about ${duration(state.estimated)}`;
    card.append(text("p", "timing", timing));
    if (state.note) card.append(text("p", "note", state.note));
    root.append(card);
  }
}

// A rerun asked for while a person's click or key is still on its way would supersede
// the run it starts: Streamlit coalesces the two requests, and the newer one (ours, sent
// from a page being left, or without the click's trigger) wins. So the area holds its
// rerun while a run is going, and after an input until that input's run has come and
// gone (or, when none comes, for this long).
const INPUT_HOLD_MILLISECONDS = 1500;
const BUSY_STATES = new Set(["running", "rerunRequested", "stopRequested"]);
const HOLD_CHECK_MILLISECONDS = 100;

function appElement() {
  return document.querySelector('[data-testid="stApp"]');
}

// Streamlit's app root names its script-run state in this attribute (its own end-to-end
// tests, and ours, wait on it); a component has no other view of it.
function scriptRunning() {
  return BUSY_STATES.has(appElement()?.getAttribute("data-test-script-state"));
}

// One request a period for each progress link, however many areas show its jobs: the
// feed draws an area in every card, all reading one answer. Each listener is told the
// answer and whether an area before it already asked for a rerun (one rerun is enough).
function subscribe(url, period, listener) {
  const hub = (window.__imageStudioProgress ??= new Map());
  let entry = hub.get(url);
  if (!entry) {
    entry = { listeners: new Set() };
    entry.timer = setInterval(async () => {
      let status, jobs = null;
      try {
        const answer = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        status = answer.status;
        if (answer.ok) jobs = await answer.json();
      } catch (error) {
        return;  // the server is restarting: keep showing what is known
      }
      let asked = false;
      for (const heard of [...entry.listeners]) asked = heard(status, jobs, asked) || asked;
    }, period);
    hub.set(url, entry);
  }
  entry.listeners.add(listener);
  return () => {
    entry.listeners.delete(listener);
    if (entry.listeners.size === 0) {
      clearInterval(entry.timer);
      hub.delete(url);
    }
  };
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  // Streamlit calls this again when the data changes but calls the cleanup only once the
  // element goes: the area from the call before stops here, or its poller would go on
  // asking for reruns about jobs it no longer shows (and polling) for as long as the page.
  parentElement.studioStopArea?.();
  // The parent also holds the component's <style>: replace only our own area.
  parentElement.querySelector(".area")?.remove();
  const root = document.createElement("div");
  root.className = data.compact ? "area compact" : "area";
  root.setAttribute("data-testid", "live-progress");
  parentElement.append(root);
  const shown = new Set(data.jobs.map((job) => job.id));
  let states = new Map(data.jobs.map((job) => [job.id, job]));
  let started = Date.now();
  let asked = false;
  let disposed = false;
  let waiting = null;  // the reason of a rerun held back, asked once the page is quiet
  let lastInput = 0;
  let ranSinceInput = true;
  draw(root, data, states, started);

  const noteInput = () => { lastInput = Date.now(); ranSinceInput = false; };
  document.addEventListener("pointerdown", noteInput, true);
  document.addEventListener("keydown", noteInput, true);
  const runs = new MutationObserver(() => { if (scriptRunning()) ranSinceInput = true; });
  const app = appElement();
  if (app) runs.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });

  function busy() {
    if (scriptRunning()) return true;
    return !ranSinceInput && Date.now() - lastInput < INPUT_HOLD_MILLISECONDS;
  }

  function ask(reason) {
    // A poll answered after this area left the page (a link was followed) asks nothing.
    if (asked || disposed) return;
    if (busy()) {
      if (waiting === null) setTimeout(askWhenQuiet, HOLD_CHECK_MILLISECONDS);
      waiting = reason;
      return;
    }
    asked = true;
    setTriggerValue("changed", `${reason} ${Date.now()}`);
  }

  function askWhenQuiet() {
    if (disposed || waiting === null) return;
    if (busy()) { setTimeout(askWhenQuiet, HOLD_CHECK_MILLISECONDS); return; }
    const reason = waiting;
    waiting = null;
    ask(reason);
  }

  // Whether this area needs a rerun (asking for it unless another area already did).
  function heard(status, jobs, alreadyAsked) {
    if (disposed) return false;
    if (status === 403) {
      if (!alreadyAsked) ask("link expired");
      return true;
    }
    if (jobs === null) return false;
    // Where the link answers for every job in flight, a new one is news too; else only
    // this area's own jobs are (a shared link answers for other cards' jobs as well).
    const answered = data.everyJob ? jobs : jobs.filter((job) => shown.has(job.id));
    const flying = new Set(answered.filter((job) => job.in_flight).map((job) => job.id));
    const changed = flying.size !== shown.size || [...shown].some((id) => !flying.has(id));
    states = new Map(jobs.map((job) => [job.id, job]));
    started = Date.now();
    // Drawn as each answer arrives, so the bars trail the store by one request at most.
    draw(root, data, states, started);
    if (changed && !alreadyAsked) ask("jobs changed");
    return changed;
  }
  // Between answers only the elapsed time moves.
  const ticker = setInterval(() => draw(root, data, states, started), 1000);
  const unsubscribe = subscribe(data.url, data.poll, heard);
  const stop = () => {
    disposed = true;
    clearInterval(ticker);
    unsubscribe();
    runs.disconnect();
    document.removeEventListener("pointerdown", noteInput, true);
    document.removeEventListener("keydown", noteInput, true);
  };
  parentElement.studioStopArea = stop;
  return stop;
}
