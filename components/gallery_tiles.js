// The gallery's page of images, drawn here as one element: a justified grid of tiles
// (each as wide as its picture's ratio asks, so rows have no holes beside tall images).
// A click on a picture opens it (as a link to ?image=ID, so a middle click opens a tab);
// the corner checkbox selects, shift for a range; Add to board asks for a board. On a
// tile, Enter opens and Space selects. Texts are set as text, never as HTML.
const ICON_BOARD =
  "M4 6H2v14c0 1.1.9 2 2 2h14v-2H4V6zm16-4H8c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h12c1.1 0 " +
  "2-.9 2-2V4c0-1.1-.9-2-2-2zm-1 9h-4v4h-2v-4H9V9h4V5h2v4h4v2z";


function svgIcon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

function address(imageId) {
  const url = new URL(window.location.href);
  url.searchParams.set("image", String(imageId));
  return url.pathname + url.search;
}

function tile(image) {
  const item = document.createElement("li");
  item.className = "tile";
  item.dataset.id = String(image.id);
  const ratio = image.width && image.height ? image.width / image.height : 1;
  item.style.setProperty("--ratio", String(ratio));

  const link = document.createElement("a");
  link.className = "picture";
  link.href = address(image.id);
  link.setAttribute("aria-describedby", `caption-${image.id}`);
  if (image.url) {
    const picture = document.createElement("img");
    picture.src = image.url;
    picture.alt = image.prompt;
    picture.width = image.width || 1;
    picture.height = image.height || 1;
    picture.decoding = "async";
    picture.draggable = false;
    link.append(picture);
  } else {
    const missing = document.createElement("span");
    missing.className = "missing";
    missing.textContent = `${image.prompt} (the thumbnail is missing from the archive)`;
    link.append(missing);
  }

  const select = document.createElement("input");
  select.type = "checkbox";
  select.className = "select";
  select.setAttribute("aria-label", `Select ${image.name}`);
  select.title = "Select (Shift for a range)";

  const board = document.createElement("button");
  board.type = "button";
  board.className = "board";
  board.setAttribute("aria-label", `Add to board: ${image.name}`);
  board.title = "Add to board";
  board.append(svgIcon(ICON_BOARD));

  const caption = document.createElement("div");
  caption.className = "caption";
  caption.id = `caption-${image.id}`;
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = image.excerpt;
  const details = document.createElement("p");
  details.className = "details";
  details.textContent = image.details;
  caption.append(prompt, details);

  item.append(link, select, board, caption);
  return item;
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  const images = data.images || [];
  const selected = new Set(data.selected || []);

  // Tiles already drawn for the same picture are kept (no image loads again): a selection
  // or another run redraws only what changed.
  let list = parentElement.querySelector("ul.grid");
  if (!list) {
    list = document.createElement("ul");
    list.className = "grid";
    list.setAttribute("aria-label", data.label);
    parentElement.append(list);
  }
  const kept = new Map(
    [...list.children].map((item) => [`${item.dataset.id}|${item.dataset.key}`, item]),
  );
  const tiles = images.map((image) => {
    const key = `${image.id}|${image.url}|${image.details}|${image.excerpt}`;
    const found = kept.get(`${image.id}|${key}`);
    const item = found || tile(image);
    item.dataset.key = key;
    return item;
  });
  list.replaceChildren(...tiles);
  list.setAttribute("aria-label", data.label);
  const ids = images.map((image) => image.id);
  for (const item of tiles) {
    const on = selected.has(Number(item.dataset.id));
    item.classList.toggle("selected", on);
    item.querySelector("input.select").checked = on;
  }
  list.classList.toggle("selecting", selected.size > 0);

  // A new page starts at the top of the page, wherever its pager was pressed. (What the
  // grid remembers between runs is kept on the list, which stays while the page does.)
  const shown = list.dataset.page;
  if (shown !== undefined && shown !== String(data.page)) {
    const main = document.querySelector('[data-testid="stMain"]');
    if (main) main.scrollTo({ top: 0 });
    delete list.dataset.anchor; // the tile a shift-click selects from
  }
  list.dataset.page = String(data.page);

  const open = (imageId) => setTriggerValue("open", imageId);
  const choose = (imageId, on, range) => {
    let chosen = [imageId];
    const anchor = Number(list.dataset.anchor);
    if (range && ids.includes(anchor)) {
      const [from, to] = [ids.indexOf(anchor), ids.indexOf(imageId)].sort((a, b) => a - b);
      chosen = ids.slice(from, to + 1);
    }
    list.dataset.anchor = String(imageId);
    for (const id of chosen) {
      const item = list.querySelector(`li[data-id="${id}"]`);
      item.classList.toggle("selected", on);
      item.querySelector("input.select").checked = on;
    }
    setTriggerValue("select", { ids: chosen, selected: on });
  };

  const onClick = (event) => {
    const item = event.target.closest("li.tile");
    if (!item) return;
    const imageId = Number(item.dataset.id);
    if (event.target.closest("input.select")) {
      choose(imageId, event.target.checked, event.shiftKey);
      return;
    }
    if (event.target.closest("button.board")) {
      setTriggerValue("board", imageId);
      return;
    }
    const link = event.target.closest("a.picture");
    if (!link) return;
    // A new tab or window keeps the browser's own way; a plain click opens the dialog here.
    if (event.ctrlKey || event.metaKey || event.altKey || event.button !== 0) return;
    event.preventDefault();
    if (event.shiftKey) {
      choose(imageId, !item.classList.contains("selected"), true);
      return;
    }
    open(imageId);
  };
  const onKey = (event) => {
    const link = event.target.closest && event.target.closest("a.picture");
    if (!link || event.key !== " ") return;
    event.preventDefault(); // Space selects, as in a file manager, instead of scrolling
    const item = link.closest("li.tile");
    choose(Number(item.dataset.id), !item.classList.contains("selected"), event.shiftKey);
  };
  // Set, not added: Streamlit calls this again on the same list when the data changes (and
  // the returned cleanup only once the grid goes); only the newest handlers may answer.
  list.onclick = onClick;
  list.onkeydown = onKey;

  // Back from the dialog: the keyboard is where it was, on the picture that opened it.
  let timer = null;
  if (data.focus) {
    let tries = 0;
    timer = setInterval(() => {
      const link = list.querySelector(`li[data-id="${data.focus}"] a.picture`);
      tries += 1;
      if (link && !document.querySelector('[role="dialog"]')) {
        link.focus();
        clearInterval(timer);
      } else if (tries > 40) {
        clearInterval(timer);
      }
    }, 50);
  }
  return () => {
    if (list.onclick === onClick) list.onclick = null;
    if (list.onkeydown === onKey) list.onkeydown = null;
    if (timer) clearInterval(timer);
  };
}
