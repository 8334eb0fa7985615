// The notes front end: talks to the app's JSON API with fetch, and follows the live feed
// (/api/notes/live, a WebSocket) so that a note added or deleted anywhere shows here at once.
"use strict";

const list = document.getElementById("notes");
const empty = document.getElementById("empty");
const form = document.getElementById("new-note");
const text = document.getElementById("text");
const status = document.getElementById("status");

// Every answer of the API is JSON, errors included ({"error": "..."}), except 204.
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function show(message, isError = false) {
  status.textContent = message;
  status.className = isError ? "error" : "";
}

function noteItem(note) {
  const item = document.createElement("li");
  item.dataset.id = note.id;
  const body = document.createElement("p");
  body.textContent = note.text; // text, never HTML: notes are user input
  const when = document.createElement("time");
  when.dateTime = note.created;
  when.textContent = new Date(note.created).toLocaleString();
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete note ${note.id}`);
  remove.addEventListener("click", () => removeNote(note.id));
  item.append(body, when, remove);
  return item;
}

function render(notes) {
  list.replaceChildren(...notes.map(noteItem));
  empty.hidden = notes.length > 0;
}

function itemFor(id) {
  return list.querySelector(`li[data-id="${Number(id)}"]`);
}

// Events may repeat what this page already shows (its own change, or a reconnect racing a
// refresh): adding a note that is there, or deleting one that is gone, does nothing.
function apply(event) {
  if (event.type === "added" && event.note && !itemFor(event.note.id)) {
    const later = [...list.children].find((item) => Number(item.dataset.id) > event.note.id);
    list.insertBefore(noteItem(event.note), later || null);
  } else if (event.type === "deleted") {
    itemFor(event.id)?.remove();
  }
  empty.hidden = list.children.length > 0;
}

async function refresh() {
  try {
    render(await api("GET", "/api/notes"));
  } catch (error) {
    show(`Could not load notes: ${error.message}`, true);
  }
}

async function removeNote(id) {
  try {
    await api("DELETE", `/api/notes/${id}`);
    show("Note deleted.");
  } catch (error) {
    show(`Could not delete: ${error.message}`, true);
  }
  await refresh();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = text.value.trim();
  if (!value) return;
  try {
    await api("POST", "/api/notes", { text: value });
    text.value = "";
    show("Note added.");
  } catch (error) {
    show(`Could not add: ${error.message}`, true);
  }
  await refresh();
});

// The live feed. Closed connections (a server reload, a network change, a page cut off for
// falling behind) are reopened after 0.5 s, doubling up to 30 s; each new connection reloads
// the list, since changes made while it was closed were not sent.
let retryDelay = 500;
// The server closes a WebSocket with no frame either way for its idle timeout (60 s unless the
// app's `websocket: idle_timeout` says otherwise); a quiet list still has its page open.
const keepAliveInterval = 25000;

function follow() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/notes/live`);
  let keepAlive;
  socket.addEventListener("open", async () => {
    retryDelay = 500;
    keepAlive = setInterval(() => socket.send("keepalive"), keepAliveInterval);
    await refresh();
    document.body.dataset.live = "open";
  });
  socket.addEventListener("message", (message) => {
    try {
      apply(JSON.parse(message.data));
    } catch {
      // Not an event this page knows: ignore it rather than stop following.
    }
  });
  socket.addEventListener("close", () => {
    clearInterval(keepAlive);
    document.body.dataset.live = "closed";
    setTimeout(follow, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  });
}

refresh();
follow();
