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

function draw(root, jobs, states, started) {
  root.replaceChildren();
  for (const job of jobs) {
    const state = states.get(job.id) || job;
    const card = document.createElement("section");
    card.className = "job";
    card.setAttribute("aria-label", `Job: ${job.prompt}`);
    card.append(text("p", "prompt", job.prompt), text("p", "settings", job.settings));
    const slots = document.createElement("div");
    slots.className = "slots";
    for (let index = 0; index < job.images; index++) {
      const slot = document.createElement("div");
      slot.className = "slot";
      slot.style.aspectRatio = `${job.width} / ${job.height}`;
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

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  // The parent also holds the component's <style>: replace only our own area.
  parentElement.querySelector(".area")?.remove();
  const root = document.createElement("div");
  root.className = "area";
  root.setAttribute("data-testid", "live-progress");
  parentElement.append(root);
  const shown = new Set(data.jobs.map((job) => job.id));
  let states = new Map(data.jobs.map((job) => [job.id, job]));
  let started = Date.now();
  let asked = false;
  draw(root, data.jobs, states, started);

  function ask(reason) {
    if (!asked) { asked = true; setTriggerValue("changed", `${reason} ${Date.now()}`); }
  }

  async function poll() {
    try {
      const answer = await fetch(data.url, { cache: "no-store", credentials: "same-origin" });
      if (answer.status === 403) return ask("link expired");
      if (!answer.ok) return;
      const jobs = await answer.json();
      const flying = new Set(jobs.filter((job) => job.in_flight).map((job) => job.id));
      const changed = flying.size !== shown.size || [...shown].some((id) => !flying.has(id));
      states = new Map(jobs.map((job) => [job.id, job]));
      started = Date.now();
      // Drawn as each answer arrives, so the bars trail the store by one request at most.
      draw(root, data.jobs, states, started);
      if (changed) return ask("jobs changed");
    } catch (error) {
      return;  // the server is restarting: keep showing what is known
    }
  }
  // Between answers only the elapsed time moves.
  const ticker = setInterval(() => draw(root, data.jobs, states, started), 1000);
  const poller = setInterval(poll, data.poll);
  return () => { clearInterval(ticker); clearInterval(poller); };
}
