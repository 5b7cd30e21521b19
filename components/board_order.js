// A board's images as a row of thumbnails to drag into a new order, with pointer events:
// one code path for a mouse, a pen and a finger (HTML5 drag and drop is fired by neither
// touch nor, reliably, today's Chromium). When one is dropped somewhere new, the new order
// (image ids, comma-separated) goes to the script once. Texts are set as text, never HTML.
// Up and Down beside each image (components/board_view) do the same by keyboard.
const THRESHOLD_PX = 6; // less movement than this is a tap, not a drag
const REACH_PX = 48; // a drop this far outside the strip puts the image back

function tile(image) {
  const item = document.createElement("li");
  item.dataset.id = String(image.id);
  item.setAttribute("aria-label", `Image ${image.number}: ${image.prompt}`);
  // The handle: where a finger starts a drag (a mouse may start anywhere on the tile).
  const handle = document.createElement("div");
  handle.className = "handle";
  const grip = document.createElement("span");
  grip.className = "grip";
  grip.setAttribute("aria-hidden", "true");
  const number = document.createElement("span");
  number.className = "number";
  number.textContent = String(image.number);
  handle.append(grip, number);
  item.append(handle);
  if (image.url) {
    const picture = document.createElement("img");
    picture.src = image.url;
    picture.alt = "";
    picture.draggable = false;
    item.append(picture);
  }
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = image.prompt;
  item.append(prompt);
  return item;
}

// Where a drop at (x, y) would put the dragged tile: `index` among `items` (0..length) and
// the tile whose `side` ("left" or "right") the marker stands at; null when the pointer is
// too far from the strip. Rows wrap, so the row nearest the pointer is found first, then
// the first tile in it whose middle is right of the pointer.
function insertionAt(list, items, x, y) {
  const area = list.getBoundingClientRect();
  if (
    x < area.left - REACH_PX || x > area.right + REACH_PX ||
    y < area.top - REACH_PX || y > area.bottom + REACH_PX
  ) return null;
  const boxes = items.map((item) => item.getBoundingClientRect());
  const distance = (box) => (y < box.top ? box.top - y : y > box.bottom ? y - box.bottom : 0);
  const rowTop = boxes.reduce((best, box) => (distance(box) < distance(best) ? box : best)).top;
  const row = boxes.map((box, index) => ({ box, index })).filter(({ box }) => box.top === rowTop);
  const before = row.find(({ box }) => x < box.left + box.width / 2);
  if (before) return { index: before.index, box: before.box, side: "left" };
  const last = row[row.length - 1];
  return { index: last.index + 1, box: last.box, side: "right" };
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // JSON text: see components/component_data.py.
  const data = JSON.parse(component.data?.json ?? "{}");
  // The parent also holds the component's <style>: replace only our own strip.
  parentElement.querySelector(".order")?.remove();
  const list = document.createElement("ol");
  list.className = "order";
  list.setAttribute("aria-label", "The board's images: drag one to a new place");
  const marker = document.createElement("div");
  marker.className = "drop-marker";
  marker.setAttribute("aria-hidden", "true");
  marker.hidden = true;
  const tiles = data.images.map(tile);
  list.append(...tiles, marker);
  parentElement.append(list);

  // One press at a time: where it started, and once past the threshold, the drag itself.
  let press = null;

  function placeMarker(spot) {
    const from = tiles.indexOf(press.item);
    // Dropping beside its own place changes nothing: no marker promises otherwise.
    if (spot === null || spot.index === from || spot.index === from + 1) {
      marker.hidden = true;
      return;
    }
    const area = list.getBoundingClientRect();
    const gap = parseFloat(getComputedStyle(list).columnGap) || 0;
    const edge = spot.side === "left" ? spot.box.left - gap / 2 : spot.box.right + gap / 2;
    marker.hidden = false;
    marker.style.left = `${edge - area.left - marker.offsetWidth / 2}px`;
    marker.style.top = `${spot.box.top - area.top}px`;
    marker.style.height = `${spot.box.height}px`;
  }

  function follow(event) {
    const x = event.clientX - press.grabX - press.origin.left;
    const y = event.clientY - press.grabY - press.origin.top;
    press.ghost.style.transform = `translate(${x}px, ${y}px)`;
    press.spot = insertionAt(list, tiles, event.clientX, event.clientY);
    placeMarker(press.spot);
  }

  function begin(event) {
    const box = press.item.getBoundingClientRect();
    press.grabX = press.startX - box.left;
    press.grabY = press.startY - box.top;
    press.ghost = press.item.cloneNode(true);
    press.ghost.className = "ghost";
    press.ghost.removeAttribute("aria-label");
    press.ghost.setAttribute("aria-hidden", "true");
    press.ghost.style.width = `${box.width}px`;
    list.append(press.ghost);
    // Fixed, so the expander around the strip does not clip it; where (0, 0) lands is
    // measured, in case a transformed ancestor moves it.
    press.origin = press.ghost.getBoundingClientRect();
    press.item.classList.add("dragging");
    list.classList.add("active");
    document.addEventListener("keydown", escape, true);
    follow(event);
  }

  // Ends the press; a drop moves the tile and sends the new order if it changed.
  function finish(drop) {
    const current = press;
    press = null;
    document.removeEventListener("keydown", escape, true);
    if (current.item.hasPointerCapture(current.pointerId)) {
      current.item.releasePointerCapture(current.pointerId);
    }
    if (!current.ghost) return;
    current.ghost.remove();
    current.item.classList.remove("dragging");
    list.classList.remove("active");
    marker.hidden = true;
    if (!drop || current.spot === null) return;
    const before = tiles.map((item) => item.dataset.id).join(",");
    const from = tiles.indexOf(current.item);
    const to = current.spot.index > from ? current.spot.index - 1 : current.spot.index;
    tiles.splice(from, 1);
    tiles.splice(to, 0, current.item);
    list.insertBefore(current.item, tiles[to + 1] || marker);
    const now = tiles.map((item) => item.dataset.id).join(",");
    if (now !== before) setTriggerValue("order", now);
  }

  function escape(event) {
    if (event.key !== "Escape" || !press) return;
    event.preventDefault();
    finish(false);
  }

  for (const item of tiles) {
    item.addEventListener("pointerdown", (event) => {
      if (press || !event.isPrimary || event.button !== 0) return;
      // A finger or a pen on the picture scrolls the page; on the handle it drags.
      if (event.pointerType !== "mouse" && !event.target.closest(".handle")) return;
      event.preventDefault(); // no text selection, no native image drag
      press = { item, pointerId: event.pointerId, startX: event.clientX, startY: event.clientY };
      item.setPointerCapture(event.pointerId);
    });
    item.addEventListener("pointermove", (event) => {
      if (!press || event.pointerId !== press.pointerId) return;
      if (!press.ghost) {
        const moved = Math.hypot(event.clientX - press.startX, event.clientY - press.startY);
        if (moved < THRESHOLD_PX) return;
        begin(event);
      } else {
        follow(event);
      }
    });
    item.addEventListener("pointerup", (event) => {
      if (press && event.pointerId === press.pointerId) finish(true);
    });
    for (const type of ["pointercancel", "lostpointercapture"]) {
      item.addEventListener(type, (event) => {
        if (press && event.pointerId === press.pointerId) finish(false);
      });
    }
  }
}
