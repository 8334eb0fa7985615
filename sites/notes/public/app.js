// The notes front end: talks to the app's JSON API with fetch.
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

function render(notes) {
  list.replaceChildren(...notes.map((note) => {
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
  }));
  empty.hidden = notes.length > 0;
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

refresh();
