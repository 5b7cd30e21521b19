// A board's images as a row of thumbnails to drag into a new order. When one is dropped
// somewhere new, the new order (image ids, comma-separated) goes to the script once.
// Texts are set as text, never HTML. Up and Down beside each image do the same by keyboard.
function tile(image) {
  const item = document.createElement("li");
  item.draggable = true;
  item.dataset.id = String(image.id);
  item.setAttribute("aria-label", `Image ${image.number}: ${image.prompt}`);
  const number = document.createElement("span");
  number.className = "number";
  number.textContent = String(image.number);
  item.append(number);
  if (image.url) {
    const picture = document.createElement("img");
    picture.src = image.url;
    picture.alt = "";
    item.append(picture);
  }
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = image.prompt;
  item.append(prompt);
  return item;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  parentElement.querySelector(".order")?.remove();
  const list = document.createElement("ol");
  list.className = "order";
  list.setAttribute("aria-label", "The board's images: drag one to a new place");
  const order = () => [...list.children].map((item) => item.dataset.id).join(",");
  let dragged = null;
  for (const image of data.images) {
    const item = tile(image);
    item.addEventListener("dragstart", (event) => {
      dragged = item;
      item.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.id);
    });
    item.addEventListener("dragover", (event) => {
      event.preventDefault();
      if (!dragged || dragged === item) return;
      const box = item.getBoundingClientRect();
      const after = event.clientX > box.left + box.width / 2;
      list.insertBefore(dragged, after ? item.nextSibling : item);
    });
    item.addEventListener("drop", (event) => event.preventDefault());
    item.addEventListener("dragend", () => {
      item.classList.remove("dragging");
      dragged = null;
      const now = order();
      if (now !== start) setTriggerValue("order", now);
    });
    list.append(item);
  }
  const start = order();
  parentElement.append(list);
}
