// The dispatcher's workbench: the live queue, the map of open cases, one case at a time
// with its photos, history and possible duplicates, and the loop's actions by button or key.
// Every write carries the ETag read; a 412 says who came first and reloads the case.

import { historyItems, showPhotos, statusLine, watchChanges } from "./cases.js";
import { api, ApiError, config, el, pageMap, shortTime, signIn, t, watchNetwork } from "./common.js";

const OPEN = ["reported", "dispatched", "accepted", "handled", "verified", "returned", "escalated", "referred", "reopened"];
const RANK = { red: 0, orange: 1, yellow: 2 };
const COLOURS = { red: "#c62828", orange: "#e65100", yellow: "#c9a100" };
//: the actions, their shortcut key and the fields they ask for
const ACTIONS = {
  dispatch: { key: "d", fields: ["assignee", "note"] },
  verify: { key: "v", fields: [] },
  close: { key: "c", fields: [] },
  reopen: { key: "o", fields: ["reason"] },
  escalate: { key: "e", fields: ["department", "reason"] },
  refer: { key: "u", fields: ["reason"] },
  send_back: { key: "b", fields: ["reason"] },
  defer: { key: "f", fields: ["reason"] },
  cancel: { key: "x", fields: ["reason"] },
  duplicate: { key: "m", fields: ["duplicate_of"] },
  accept: { key: "a", fields: [] },
  return: { key: "r", fields: ["reason"] },
  handle: { key: "h", fields: ["result"] },
};
const $ = (id) => document.getElementById(id);

const cases = new Map(); // id -> summary, what the list shows
let mode = "queue", selected = null, current = null, pending = null;
let directory = { departments: [], teams: [], centres: [] }, gridNames = {}, matterNames = {};
let map, markers;

// ---- reference lists for names and filters ------------------------------------------------

async function loadReference() {
  const [{ data: dir }, grids, services] = await Promise.all([
    api("/api/v1/directory"),
    fetch("/ogc/collections/grids/items?limit=10000").then((r) => r.json()),
    fetch(`/open311/v2/services.json?lang=${config.lang}`).then((r) => r.json()),
  ]);
  directory = dir;
  for (const f of grids.features) gridNames[f.properties.code] = f.properties.name;
  for (const s of services) matterNames[s.service_code] = s.service_name;
  L.geoJSON(grids, { style: { color: "#1f5fa8", weight: 1, fillColor: "#fff", fillOpacity: 0.5 }, interactive: false }).addTo(map);
  fill("f-grid", Object.entries(gridNames).sort().map(([code, name]) => [code, name]));
  fill("f-team", dir.teams.map((x) => [x.code, name(x)]));
  fill("f-department", dir.departments.map((x) => [x.code, name(x)]));
  fill("f-category", services.map((s) => [s.service_code, s.service_name]));
}

const name = (x) => (config.lang === "en" && x.name_en) || x.name;
const departmentName = (code) => { const d = directory.departments.find((x) => x.code === code); return d ? name(d) : code || ""; };
const centreName = (code) => { const c = (directory.centres || []).find((x) => x.code === code); return c ? name(c) : code; };
const teamName = (code) => { const x = directory.teams.find((y) => y.code === code); return x ? name(x) : code || ""; };
const whoName = (code) => [departmentName, teamName, centreName].map((f) => f(code)).find((n) => n !== code) ?? code ?? "";

function fill(id, pairs) {
  $(id).append(...pairs.map(([value, label]) => el("option", { value }, label)));
}

// ---- the queue -------------------------------------------------------------------------------

function filters() {
  const params = new URLSearchParams();
  for (const f of ["grid", "team", "department", "category", "colour"]) {
    const value = $(`f-${f}`).value;
    if (value) params.set(f, value);
  }
  return params;
}

function admits(c) {
  const f = Object.fromEntries(filters());
  if (!OPEN.includes(c.status)) return false;
  if (f.grid && c.grid_code !== f.grid) return false;
  if (f.team && c.team !== f.team) return false;
  if (f.department && c.department !== f.department) return false;
  if (f.category && c.category !== f.category) return false;
  if (f.colour && c.supervision.colour !== f.colour) return false;
  if (mode === "supervision" && !(c.supervision.overdue || c.supervision.overdue_steps)) return false;
  return true;
}

async function loadQueue() {
  const params = filters();
  let items;
  if (mode === "supervision") {
    ({ data: items } = await api(`/api/v1/supervision?${params}`));
  } else {
    for (const s of OPEN) params.append("status", s);
    params.set("limit", "500");
    ({ data: { items } } = await api(`/api/v1/cases?${params}`));
  }
  cases.clear();
  for (const c of items) cases.set(c.id, c);
  render();
}

function ordered() {
  return [...cases.values()].sort((a, b) =>
    (b.supervision.overdue - a.supervision.overdue)
    || (RANK[a.supervision.colour] - RANK[b.supervision.colour])
    || ((a.supervision.hours_left ?? 1e9) - (b.supervision.hours_left ?? 1e9))
    || (b.id - a.id));
}

function render() {
  const items = ordered();
  $("count").textContent = t("count", { n: items.length });
  $("list").replaceChildren(...items.map(row));
  markers.clearLayers();
  for (const c of items) {
    L.circleMarker([c.lat, c.lon], {
      radius: c.id === selected ? 9 : 6,
      color: "#222",
      weight: c.id === selected ? 3 : 1,
      fillColor: COLOURS[c.supervision.colour],
      fillOpacity: 0.9,
    }).bindTooltip(`${c.number} ${c.category_name}`).on("click", () => openCase(c.id)).addTo(markers);
  }
}

function row(c) {
  const s = c.supervision;
  const due = s.overdue ? t("overdue") : s.hours_left != null ? t("hours_left", { h: s.hours_left }) : "";
  return el(
    "li",
    { role: "option", id: `case-${c.id}`, "data-id": c.id, "aria-selected": String(c.id === selected), class: `case ${s.colour}${c.fresh ? " fresh" : ""}`, onclick: () => openCase(c.id) },
    el("span", { class: "badge" }, t(`colour_${s.colour}`)),
    el("strong", {}, c.category_name),
    el("span", { class: "status" }, t(`status_${c.status}`)),
    el("small", {}, `${c.number} · ${gridNames[c.grid_code] || c.grid_code || ""} · ${due}`),
  );
}

// ---- live updates: watchChanges (cases.js) calls apply with what changed ----------------

function apply(items) {
  for (const c of items) {
    const known = cases.has(c.id);
    if (admits(c)) {
      c.fresh = !known && c.status === "reported";
      cases.set(c.id, c);
      if (c.fresh) $("fresh-note").textContent = t("new_case", { number: c.number });
    } else {
      cases.delete(c.id);
    }
    if (c.id === selected && current && c.status !== current.status && !pending) {
      // someone else moved the case: show it, unless the dispatcher is filling in a form,
      // whose answer (a 412 naming who came first) then says it
      if ($("action-form").hidden) openCase(c.id, { keepMessage: true });
      else $("case-message").textContent = t("changed_meanwhile_hint");
    }
  }
  render();
}

// ---- one case ----------------------------------------------------------------------------

async function openCase(id, { keepMessage = false } = {}) {
  selected = id;
  const { data } = await api(`/api/v1/cases/${id}`);
  current = data;
  const known = cases.get(id);
  if (known) known.fresh = false;
  $("panel-empty").hidden = true;
  $("case").hidden = false;
  $("action-form").hidden = true;
  if (!keepMessage) $("case-message").textContent = "";
  $("case-title").textContent = `${data.number} ${data.category_name}`;
  $("case-status").replaceChildren(...statusLine(data), data.supervision.overdue ? ` · ${t("overdue")}` : "");
  showActions(data);
  showFacts(data);
  showPhotos(data, $("case-photos"));
  showDuplicates(data);
  $("case-history").replaceChildren(...historyItems(data, centreName));
  render();
  map.panTo([data.lat, data.lon]);
}

function showFacts(c) {
  const facts = [
    [t("grid"), gridNames[c.grid_code] || c.grid_code],
    [t("team"), teamName(c.team)],
    [t("suggested"), departmentName(c.department)],
    [t("cooperating"), (c.cooperating || []).map(departmentName).join("、")],
    [t("assignee"), whoName(c.assignee)],
    [t("description"), c.description],
    [t("address"), c.address],
    [t("reporter"), c.reporter],
    [t("reported_at"), shortTime(c.created_at)],
  ].filter(([, v]) => v);
  $("case-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

async function showDuplicates(c) {
  const list = $("case-duplicates");
  if (!c.possible_duplicates.length) {
    list.replaceChildren(el("li", { class: "hint" }, t("no_duplicates")));
    return;
  }
  list.replaceChildren();
  for (const d of c.possible_duplicates) {
    let other = null;
    try { ({ data: other } = await api(`/api/v1/cases/${d.id}`)); } catch { /* closed meanwhile or gone */ }
    if (current?.id !== c.id) return;
    const merge = c.actions.includes("duplicate")
      ? el("button", { type: "button", onclick: () => act("duplicate", { duplicate_of: d.id }) }, t("merge_into", { number: d.number }))
      : null;
    list.append(el(
      "li", { class: "pair" },
      el("div", {}, el("strong", {}, c.number), el("p", {}, c.description || "—"), el("small", {}, shortTime(c.created_at))),
      el("div", {}, el("strong", {}, d.number), " ", el("small", {}, t("metres", { m: d.distance_m })),
        el("p", {}, other?.description || "—"),
        el("small", {}, other ? `${t(`status_${other.status}`)} · ${shortTime(other.created_at)}` : "")),
      merge,
    ));
  }
}

function showActions(c) {
  const buttons = c.actions.filter((a) => ACTIONS[a]).map((a) =>
    el("button", { type: "button", "data-action": a, "aria-keyshortcuts": ACTIONS[a].key.toUpperCase(), onclick: () => begin(a) },
      `${t(`action_${a}`)} (${ACTIONS[a].key.toUpperCase()})`));
  $("case-actions").replaceChildren(...(buttons.length ? buttons : [el("p", { class: "hint" }, t("no_actions"))]));
}

// ---- acting ----------------------------------------------------------------------------------

function begin(action) {
  if (!current || !current.actions.includes(action)) return;
  const fields = ACTIONS[action].fields;
  if (!fields.length) {
    act(action, {});
    return;
  }
  $("action-title").textContent = t(`action_${action}`);
  $("action-fields").replaceChildren(...fields.map((f) => field(f)));
  $("action-form").hidden = false;
  $("action-form").dataset.action = action;
  $("action-fields").querySelector("select, textarea, input")?.focus();
}

function field(fieldName) {
  const id = `field-${fieldName}`;
  if (fieldName === "assignee") {
    // the small loop goes to the grid's team, the others to a town department
    // a referred case is the district centre's: it goes to a district (county-level) bureau
    const choices = current.status === "referred"
      ? directory.departments.filter((d) => d.level === "county")
      : [...directory.teams, ...directory.departments.filter((d) => d.level !== "county")];
    const chosen = current.assignee || current.department;
    const select = el("select", { id, name: fieldName },
      ...choices.map((d) => el("option", { value: d.code, selected: d.code === chosen }, name(d))));
    return el("label", { for: id }, t("dispatch_to"), select);
  }
  if (fieldName === "department") {
    const county = directory.departments.filter((d) => d.level === "county");
    const select = el("select", { id, name: fieldName, required: true }, ...county.map((d) => el("option", { value: d.code }, name(d))));
    return el("label", { for: id }, t("escalate_to"), select);
  }
  if (fieldName === "duplicate_of") {
    const select = el("select", { id, name: fieldName, required: true },
      ...current.possible_duplicates.map((d) => el("option", { value: d.id }, `${d.number} (${t("metres", { m: d.distance_m })})`)));
    return el("label", { for: id }, t("duplicate_of"), select);
  }
  const optional = fieldName === "note";
  return el("label", { for: id }, t(optional ? "note" : "reason"), el("textarea", { id, name: fieldName, rows: 2, required: !optional, maxlength: 2000 }));
}

async function act(action, fields) {
  const c = current;
  pending = action;
  try {
    const body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== "" && v != null));
    if (body.duplicate_of) body.duplicate_of = Number(body.duplicate_of);
    const { data } = await api(`/api/v1/cases/${c.id}/${action}`, { method: "POST", json: body, headers: { "If-Match": `"${c.etag}"` } });
    $("case-message").textContent = t("done", { action: t(`action_${action}`), number: data.number });
    $("case-message").className = "message ok";
    await openCase(c.id, { keepMessage: true });
  } catch (error) {
    $("case-message").className = "message";
    if (error instanceof ApiError && error.status === 412) {
      const last = error.problem.last_change;
      $("case-message").textContent = last
        ? t("taken_by", { actor: last.actor || t(`action_${last.action}`), action: t(`action_${last.action}`), time: shortTime(last.at) })
        : t("changed_meanwhile");
      await openCase(c.id, { keepMessage: true });
    } else if (error instanceof ApiError) {
      $("case-message").textContent = error.message;
      if (error.status === 409) await openCase(c.id, { keepMessage: true });
    } else {
      $("case-message").textContent = t("offline");
    }
  } finally {
    pending = null;
  }
}

function submitAction(event) {
  event.preventDefault();
  const form = $("action-form");
  if (!form.reportValidity()) return;
  const fields = Object.fromEntries(new FormData(form));
  form.hidden = true;
  act(form.dataset.action, fields);
}

// ---- keyboard --------------------------------------------------------------------------------

function onKey(event) {
  if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) {
    if (event.key === "Escape") $("action-form").hidden = true;
    return;
  }
  const items = ordered();
  const at = items.findIndex((c) => c.id === selected);
  const key = event.key.toLowerCase();
  if (key === "j" || event.key === "ArrowDown") move(items, at + 1);
  else if (key === "k" || event.key === "ArrowUp") move(items, at - 1);
  else if (event.key === "Enter" && selected != null) openCase(selected);
  else if (event.key === "Escape") $("action-form").hidden = true;
  else {
    const action = Object.keys(ACTIONS).find((a) => ACTIONS[a].key === key);
    if (action) begin(action);
    else return;
  }
  event.preventDefault();
}

function move(items, index) {
  if (!items.length) return;
  const c = items[Math.max(0, Math.min(items.length - 1, index))];
  openCase(c.id);
  document.getElementById(`case-${c.id}`)?.scrollIntoView({ block: "nearest" });
}

// ---- start -------------------------------------------------------------------------------------

function showMode(next) {
  mode = next;
  $("tab-queue").setAttribute("aria-selected", String(mode === "queue"));
  $("tab-supervision").setAttribute("aria-selected", String(mode === "supervision"));
  loadQueue();
}

async function start() {
  map = pageMap({}, config.center, 14);
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
  markers = L.layerGroup().addTo(map);
  await loadReference();
  await loadQueue();
  watchChanges(apply, $("live"));
}

$("tab-queue").addEventListener("click", () => showMode("queue"));
$("tab-supervision").addEventListener("click", () => showMode("supervision"));
$("filters").addEventListener("change", loadQueue);
$("action-form").addEventListener("submit", submitAction);
$("action-cancel").addEventListener("click", () => { $("action-form").hidden = true; });
document.addEventListener("keydown", onKey);
watchNetwork();
signIn({ roles: ["dispatcher", "admin"], onReady: start });
