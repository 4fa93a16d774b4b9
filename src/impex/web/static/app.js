// impex pages: refresh the parts marked data-refresh while jobs run, and tail the journal by SSE.
"use strict";

const REFRESH_MS = 1500;

function refresh(element) {
  if (document.hidden) return;
  fetch(element.dataset.refresh, { headers: { Accept: "text/html" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : null))
    .then((html) => {
      if (html !== null && html !== element.dataset.last) {
        element.dataset.last = html;
        element.innerHTML = html;
      }
    })
    .catch(() => {});
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function tailJournal(body) {
  const source = new EventSource(body.dataset.stream);
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    const row = document.createElement("tr");
    row.className = "level-" + line.level;
    row.append(cell(line.time), cell(line.level_label), cell(line.text), cell(line.actor));
    body.append(row);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll("[data-refresh]")) {
    setInterval(() => refresh(element), REFRESH_MS);
  }
  for (const body of document.querySelectorAll("[data-stream]")) {
    tailJournal(body);
  }
});
