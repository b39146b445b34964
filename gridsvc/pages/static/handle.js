// A department handler's page: the department's cases with their deadlines counting down;
// accept, report what was done with photos after, or return a case that is not ours.

import { downscale, historyItems, showPhotos, statusLine, uploadPhoto, watchChanges } from "./cases.js";
import { api, ApiError, el, shortTime, signIn, t, watchNetwork } from "./common.js";

const MAX_PHOTOS = 3;
const OUR_STEPS = ["dispatched", "accepted", "escalated"]; // the clock runs on us in these
const TICK_MS = 30000;
const $ = (id) => document.getElementById(id);
let items = [], current = null, photos = [], myDepartment = null;

// ---- the list -------------------------------------------------------------------------------

async function loadList() {
  const open = $("open-only").checked ? "&open=true" : "";
  ({ data: { items } } = await api(`/api/v1/me/cases?limit=200${open}`));
  showList();
}

function countdown(s) {
  if (!s.deadline) return "";
  const minutes = Math.round((new Date(s.deadline) - Date.now()) / 60000);
  const span = t("hours_minutes", { h: Math.floor(Math.abs(minutes) / 60), m: Math.abs(minutes) % 60 });
  return minutes >= 0 ? t("left", { time: span }) : t("late", { time: span });
}

function showList() {
  const open = (c) => !["closed", "duplicate", "cancelled"].includes(c.status);
  const sorted = [...items].sort((a, b) => (a.supervision.deadline || "9").localeCompare(b.supervision.deadline || "9"));
  $("cases").replaceChildren(
    ...(sorted.length ? sorted.map((c) => el(
      "li",
      { class: `case ${open(c) ? c.supervision.colour : "done"}`, "data-number": c.number },
      el("span", { class: "badge" }, t(`colour_${c.supervision.colour}`)),
      el("button", { type: "button", class: "link", onclick: () => openCase(c.id) }, `${c.number} ${c.category_name}`),
      el("span", { class: "status" }, t(`status_${c.status}`)),
      el("small", { class: "countdown" }, OUR_STEPS.includes(c.status) ? countdown(c.supervision) : shortTime(c.updated_at)),
    )) : [el("li", { class: "empty" }, t("no_cases"))]),
  );
}

// ---- one case ---------------------------------------------------------------------------------

async function openCase(id, message = "", ok = false) {
  const { data } = await api(`/api/v1/cases/${id}`);
  current = data;
  $("list-view").hidden = true;
  $("case-view").hidden = false;
  $("handle-form").hidden = true;
  $("return-form").hidden = true;
  $("case-message").textContent = message;
  $("case-message").className = ok ? "message ok" : "message";
  $("case-title").textContent = `${data.number} ${data.category_name}`;
  $("case-status").replaceChildren(...statusLine(data), OUR_STEPS.includes(data.status) ? ` · ${countdown(data.supervision)}` : "");
  const grid = data.history[0]?.data?.match?.grid_name || data.grid_code;
  const facts = [[t("description"), data.description], [t("address"), data.address], [t("grid"), grid]].filter(([, v]) => v);
  $("case-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("case-history").replaceChildren(...historyItems(data));
  const mine = ["accept", "handle", "return"].filter((a) => data.actions.includes(a));
  $("case-actions").replaceChildren(...mine.map((a) => el("button", { type: "button", onclick: () => begin(a) }, t(`action_${a}`))));
  showPhotos(data, $("case-photos"));
}

function begin(action) {
  if (action === "accept") act("accept", {});
  else if (action === "handle") { $("handle-form").hidden = false; $("result").focus(); }
  else { $("return-form").hidden = false; $("reason").focus(); }
}

async function act(action, fields) {
  const c = current;
  try {
    const { data } = await api(`/api/v1/cases/${c.id}/${action}`, { method: "POST", json: fields, headers: { "If-Match": `"${c.etag}"` } });
    await openCase(c.id, t("done", { action: t(`action_${action}`), number: data.number }), true);
    loadList();
  } catch (error) {
    if (error instanceof ApiError && error.status === 412 && error.problem.last_change) {
      const last = error.problem.last_change;
      await openCase(c.id, t("taken_by", { actor: last.actor, action: t(`action_${last.action}`), time: shortTime(last.at) }));
    } else {
      $("case-message").textContent = error instanceof ApiError ? error.message : t("offline");
    }
  }
}

async function submitHandle(event) {
  event.preventDefault();
  if (!event.target.reportValidity()) return;
  const c = current;
  try {
    for (const [i, blob] of photos.entries()) {
      $("case-message").textContent = t("uploading", { i: i + 1, n: photos.length });
      await uploadPhoto(c.id, blob, i); // the photos first: the result then shows them
    }
  } catch (error) {
    $("case-message").textContent = error instanceof ApiError ? error.message : t("offline");
    return;
  }
  photos = [];
  $("thumbs").replaceChildren();
  await act("handle", { result: $("result").value.trim() });
  $("result").value = "";
}

async function addPhotos() {
  for (const file of [...$("after").files].slice(0, MAX_PHOTOS - photos.length)) photos.push(await downscale(file));
  $("after").value = "";
  $("thumbs").replaceChildren(...photos.map((b, i) => el("img", { src: URL.createObjectURL(b), alt: `${t("after_photos")} ${i + 1}` })));
}

function submitReturn(event) {
  event.preventDefault();
  if (!event.target.reportValidity()) return;
  act("return", { reason: $("reason").value.trim() });
  $("reason").value = "";
}

// ---- live: another's action on our cases shows without a refresh ------------------------------

function ours(c) {
  return c.department === myDepartment || c.assignee === myDepartment || items.some((i) => i.id === c.id);
}

function applyChanges(changed) {
  const relevant = changed.filter(ours);
  if (!relevant.length) return;
  loadList();
  const editing = !$("handle-form").hidden || !$("return-form").hidden;
  if (current && !editing && !$("case-view").hidden && relevant.some((c) => c.id === current.id)) {
    openCase(current.id, t("case_updated"));
  }
}

function start(me) {
  $("department").textContent = me?.department_name || "";
  myDepartment = me?.department || null;
  loadList();
  watchChanges(applyChanges, $("live"));
  setInterval(showList, TICK_MS); // the countdowns move without asking the server
}

$("open-only").addEventListener("change", loadList);
$("refresh").addEventListener("click", loadList);
$("back").addEventListener("click", () => { $("case-view").hidden = true; $("list-view").hidden = false; loadList(); });
$("handle-form").addEventListener("submit", submitHandle);
$("return-form").addEventListener("submit", submitReturn);
$("after").addEventListener("change", addPhotos);
for (const button of document.querySelectorAll("form .cancel")) button.addEventListener("click", () => { button.closest("form").hidden = true; });
watchNetwork();
signIn({ roles: ["handler"], onReady: start });
