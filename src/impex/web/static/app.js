// impex pages: refresh the parts marked data-refresh while jobs run, and tail the journal by SSE.
"use strict";

const REFRESH_MS = 1500;

let sessionEnded = false;

// The session ended (it expired, or the user logged out in another tab): to the login, then back here.
function logInAgain() {
  if (sessionEnded) return;
  sessionEnded = true;
  location.assign("/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search));
}

// Text the user selected in the element (to copy a count, a message): replacing the element would drop it.
function selectedIn(element) {
  const selection = window.getSelection();
  return selection !== null && !selection.isCollapsed && element.contains(selection.anchorNode);
}

function refresh(element) {
  if (document.hidden || sessionEnded || selectedIn(element)) return;
  fetch(element.dataset.refresh, { headers: { Accept: "text/html" }, credentials: "same-origin" })
    .then((response) => {
      if (response.status === 401) logInAgain();
      return response.ok ? response.text() : null;
    })
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

// What the page says of a refused upload, in its language: its own sentence where it has one for the
// refusal (the API's message is English), else its lead and the API's words.
function refusal(messages, status, error) {
  const details = error.details || {};
  if (error.code === "not_text" && details.line) {
    return messages.msgNotTextAt.replace(/\{(\w+)\}/g, (all, key) => (key in details ? details[key] : all));
  }
  if (error.code === "empty_file") return messages.msgEmpty;
  if (status === 413) return messages.msgTooLarge;
  const lead = { 415: messages.msgNotText }[status];
  return [lead || messages.msgFailed, error.message].filter(Boolean).join(" — ");
}

// The new-import page: send the file to the API, then show its preview; refusals (413, 415) in place.
function setupUpload(form) {
  const problem = form.querySelector(".problem");
  const busy = form.querySelector(".busy");
  const show = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    if (file.size > Number(form.dataset.maxBytes)) {
      show(form.dataset.msgTooLarge);
      return;
    }
    show("");
    busy.hidden = false;
    try {
      const response = await fetch("/api/uploads", {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRF-Token": form.dataset.csrf, Accept: "application/json" },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => null);
      if (response.ok && body) {
        location.assign("/jobs/new/import?upload=" + encodeURIComponent(body.name));
        return;
      }
      show(refusal(form.dataset, response.status, (body && body.error) || {}));
    } catch (failure) {
      show(form.dataset.msgFailed);
    } finally {
      busy.hidden = true;
    }
  });
}

// A button that asks first (Cancel): listened for on the document, as the refresh replaces the buttons.
document.addEventListener("submit", (event) => {
  const question = event.submitter && event.submitter.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload");
  if (upload) setupUpload(upload);
  for (const element of document.querySelectorAll("[data-refresh]")) {
    setInterval(() => refresh(element), REFRESH_MS);
  }
  for (const body of document.querySelectorAll("[data-stream]")) {
    tailJournal(body);
  }
});
