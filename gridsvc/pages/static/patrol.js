// The patrol's phone app: sign in once, take a report where the problem is, and let the
// outbox send it whenever the network is there. Nothing here needs the internet: Leaflet
// and the grid boundaries come from gridsvc, and the service worker keeps the app itself.

import { api, ApiError, config, el, forgetKey, newKey, pageMap, savedKey, shortTime, signIn, t, watchNetwork } from "./common.js";
import { downscale, uploadPhoto } from "./cases.js";
import * as outbox from "./outbox.js";

const MAX_PHOTOS = 3;
const SYNC_EVERY_MS = 15000;
const GRID_EVERY_MS = 60000; // my grid's open cases: new ones show within a minute
const RETRY_MS = 4000; // after a failed send: a lost answer is retried at once, not in 15 s
const $ = (id) => document.getElementById(id);

let map, marker, whereTimer, retryTimer, fix = null, placedByHand = false, photos = [], afterPhotos = [], matters = [], syncing = false;

// ---- the map and the fix ---------------------------------------------------------------

function initMap() {
  map = pageMap({ zoomControl: true }, config.center, 15);
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
  fetch("/ogc/collections/grids/items?limit=10000")
    .then((r) => r.json())
    .then((grids) => {
      L.geoJSON(grids, { style: { color: "#1f5fa8", weight: 2, opacity: 0.8, fillColor: "#ffffff", fillOpacity: 0.55 }, interactive: false }).addTo(map);
    })
    .catch(() => {}); // offline and not cached yet: the pin still works
  map.on("click", (e) => place(e.latlng, true));
}

function place(latlng, byHand) {
  if (!marker) {
    marker = L.marker(latlng, { draggable: true, keyboard: true, title: t("drag_hint") }).addTo(map);
    marker.on("dragend", () => place(marker.getLatLng(), true));
  }
  marker.setLatLng(latlng);
  if (byHand) {
    placedByHand = true;
    $("fix").textContent = t("moved");
  }
  clearTimeout(whereTimer);
  whereTimer = setTimeout(showWhere, 400);
}

/** Which grid the pin is in (or that it is outside the town), when the network is there. */
async function showWhere() {
  const at = marker.getLatLng();
  try {
    const query = new URLSearchParams({ lon: at.lng.toFixed(7), lat: at.lat.toFixed(7), crs: "wgs84" });
    const { data } = await api(`/api/v1/match?${query}`);
    $("where").textContent = data.status === "matched"
      ? t("in_grid", { grid: data.grid_name, street: data.street_name || "" })
      : t("outside", { m: Math.round(data.boundary_distance_m || 0) });
    $("where").className = data.status === "matched" ? "where" : "where warn";
  } catch {
    $("where").textContent = "";
  }
}

function watchPosition() {
  if (!navigator.geolocation) {
    $("fix").textContent = t("no_fix");
    return;
  }
  navigator.geolocation.watchPosition(
    (position) => {
      fix = position.coords;
      if (placedByHand) return;
      place([fix.latitude, fix.longitude], false);
      map.setView([fix.latitude, fix.longitude], Math.max(map.getZoom(), 16));
      $("fix").textContent = `${t("accuracy", { m: Math.round(fix.accuracy) })} · ${t("drag_hint")}`;
    },
    () => { if (!marker) $("fix").textContent = t("no_fix"); },
    { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 },
  );
}

// ---- categories ------------------------------------------------------------------------

async function loadMatters() {
  try {
    const response = await fetch(`/open311/v2/services.json?lang=${config.lang}`);
    matters = await response.json();
    localStorage.setItem(`gridsvc.matters.${config.lang}`, JSON.stringify(matters));
  } catch {
    matters = JSON.parse(localStorage.getItem(`gridsvc.matters.${config.lang}`) || "[]");
  }
  showMatters("");
}

function showMatters(query) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = matters.filter((m) => {
    const text = `${m.service_name} ${m.group} ${m.keywords} ${m.service_code}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  const select = $("category");
  const chosen = select.value;
  select.replaceChildren(
    ...shown.map((m) => el("option", { value: m.service_code, selected: m.service_code === chosen }, `${m.service_name} · ${m.group}`)),
  );
  if (shown.length === 1) select.value = shown[0].service_code;
}

// ---- photos ------------------------------------------------------------------------------

async function addPhotos(input, list, thumbs, label) {
  const files = [...input.files];
  input.value = "";
  for (const file of files) {
    if (list.length >= MAX_PHOTOS) {
      $("report-message").textContent = t("photos_max");
      break;
    }
    list.push(await downscale(file));
  }
  showThumbs(list, thumbs, label);
}

function showThumbs(list, thumbs, label) {
  thumbs.replaceChildren(
    ...list.map((blob, i) => {
      const img = el("img", { src: URL.createObjectURL(blob), alt: `${label} ${i + 1}` });
      const drop = el("button", { type: "button", class: "link", onclick: () => { list.splice(i, 1); showThumbs(list, thumbs, label); } }, "×");
      return el("figure", {}, img, drop);
    }),
  );
}

// ---- taking a report ---------------------------------------------------------------------

async function submitReport(event) {
  event.preventDefault();
  const message = $("report-message");
  if (!marker) {
    message.textContent = t("need_location");
    return;
  }
  if (!$("category").value) {
    message.textContent = t("category_pick");
    $("category-search").focus();
    return;
  }
  const fixing = $("fixed-here").checked;
  if (fixing && !$("fix-result").value.trim()) {
    message.textContent = t("need_result");
    $("fix-result").focus();
    return;
  }
  const where = marker.getLatLng();
  await outbox.put({
    key: newKey(),
    taken_at: new Date().toISOString(),
    report: {
      lon: Number(where.lng.toFixed(7)),
      lat: Number(where.lat.toFixed(7)),
      crs: "wgs84",
      category: $("category").value,
      description: $("description").value.trim(),
      address: $("address").value.trim(),
      client_time: new Date().toISOString(),
    },
    photos,
    uploaded: 0,
    fix: fixing ? { result: $("fix-result").value.trim(), photos: afterPhotos, uploaded: 0, done: false } : null,
    case: null,
    error: null,
  });
  $("description").value = "";
  $("address").value = "";
  $("fix-result").value = "";
  $("fixed-here").checked = false;
  $("fix-fields").hidden = true;
  photos = [];
  afterPhotos = [];
  showThumbs(photos, $("thumbs"), t("photos_label"));
  showThumbs(afterPhotos, $("after-thumbs"), t("after_photos"));
  placedByHand = false;
  message.textContent = t("queued");
  await showOutbox();
  sync();
}

// ---- the outbox --------------------------------------------------------------------------

async function showOutbox() {
  const items = await outbox.all();
  $("outbox").hidden = items.length === 0;
  $("outbox-count").textContent = t("pending", { n: items.length });
  $("outbox-list").replaceChildren(
    ...items.map((item) => {
      const name = matters.find((m) => m.service_code === item.report.category)?.service_name || item.report.category;
      const state = item.error ? t("refused", { detail: item.error }) : syncing ? t("sending") : "";
      const discard = el("button", { type: "button", class: "link", onclick: async () => { await outbox.remove(item.key); showOutbox(); } }, t("discard"));
      const retry = item.error ? el("button", { type: "button", class: "link", onclick: async () => { item.error = null; await outbox.put(item); sync(); } }, t("retry")) : null;
      return el("li", {}, `${shortTime(item.taken_at)} ${name} `, el("small", {}, state), " ", retry, discard);
    }),
  );
}

/** Send every waiting report in order; stop at the first network failure and try later. */
async function sync() {
  if (syncing || !savedKey()) return;
  syncing = true;
  try {
    for (const item of await outbox.all()) {
      if (item.error) continue;
      try {
        await send(item);
        $("report-message").textContent = item.note;
        loadMine();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          forgetKey(); // the reports stay in the outbox for the next key
          location.reload();
          break;
        }
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && ![408, 409, 425, 429].includes(error.status)) {
          item.error = error.message;
          await outbox.put(item);
          continue;
        }
        clearTimeout(retryTimer); // offline, or the server busy: try again soon, then every round
        retryTimer = setTimeout(sync, RETRY_MS);
        break;
      }
    }
  } finally {
    syncing = false;
    showOutbox();
  }
}

async function send(item) {
  if (!item.case) {
    const { data } = await api("/api/v1/reports", {
      method: "POST",
      json: item.report,
      headers: { "Idempotency-Key": item.key },
    });
    item.case = { id: data.id, number: data.number, etag: data.etag, actions: data.actions || [] };
    await outbox.put(item);
  }
  while (item.uploaded < item.photos.length) {
    await uploadPhoto(item.case.id, item.photos[item.uploaded], item.uploaded);
    item.uploaded += 1;
    await outbox.put(item);
  }
  item.note = t("sent", { number: item.case.number });
  if (item.fix && !item.fix.done) await sendFix(item);
  await outbox.remove(item.key);
}

/** 自行处置: the photos after, then the fix, on the case the report made. A matter the
 *  small loop may not fix (or a case someone moved meanwhile) stays reported as usual. */
async function sendFix(item) {
  if (!item.case.actions.includes("fix")) {
    item.note = t("fix_refused", { number: item.case.number });
    return;
  }
  const fix = item.fix;
  while (fix.uploaded < fix.photos.length) {
    await uploadPhoto(item.case.id, fix.photos[fix.uploaded], item.photos.length + fix.uploaded);
    fix.uploaded += 1;
    await outbox.put(item);
  }
  try {
    await api(`/api/v1/cases/${item.case.id}/fix`, { method: "POST", json: { result: fix.result }, headers: { "If-Match": `"${item.case.etag}"` } });
    item.note = t("fixed_sent", { number: item.case.number });
  } catch (error) {
    if (!(error instanceof ApiError) || ![409, 412].includes(error.status)) throw error;
    item.note = t("fix_refused", { number: item.case.number });
  }
  fix.done = true;
}

// ---- my grid: its outline and its open cases -------------------------------------------------

const CASE_COLOURS = { green: "#2e7d32", yellow: "#c9a100", orange: "#e65100", red: "#c62828" };
let gridLayer;

/** The key's own grid and its open cases on the map (kept for the basement: last copy shown).
 * Only a key with a grid asks (/me said so at sign-in): the others would get a 404. */
async function loadMyGrid(me) {
  if (!me || !me.grid) return;
  let grid;
  try {
    ({ data: grid } = await api("/api/v1/me/grid"));
    localStorage.setItem("gridsvc.mygrid", JSON.stringify(grid));
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) return; // the grid was redrawn away
    grid = JSON.parse(localStorage.getItem("gridsvc.mygrid") || "null");
  }
  if (!grid) return;
  const [outline, ...cases] = grid.features;
  if (gridLayer) gridLayer.remove();
  gridLayer = L.layerGroup([
    L.geoJSON(outline, { pane: myGridPane(), style: { color: "#e65100", weight: 4, fill: false }, interactive: false }),
    ...cases.map(caseMarker),
  ]).addTo(map);
  $("my-grid").textContent = t("my_grid", { name: outline.properties.name, n: cases.length });
  $("my-grid").hidden = false;
}

/** A pane above the town's grid lines (which may arrive later and would cover the outline);
 * hidden from screen readers like the overlay pane: the line under the map says the same. */
function myGridPane() {
  if (!map.getPane("mygrid")) {
    const pane = map.createPane("mygrid");
    pane.style.zIndex = 450;
    pane.setAttribute("aria-hidden", "true");
  }
  return "mygrid";
}

function caseMarker(feature) {
  const p = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const colour = CASE_COLOURS[p.colour] || CASE_COLOURS.green;
  return L.circleMarker([lat, lon], { pane: myGridPane(), radius: 7, color: "#ffffff", weight: 2, fillColor: colour, fillOpacity: 0.95 })
    .bindTooltip(`${p.number} ${p.category_name || p.category} · ${t(`status_${p.status}`)}`);
}

// ---- my reports --------------------------------------------------------------------------

async function loadMine() {
  let items;
  try {
    ({ data: { items } } = await api("/api/v1/me/cases?limit=50"));
    localStorage.setItem("gridsvc.mine", JSON.stringify(items));
  } catch {
    items = JSON.parse(localStorage.getItem("gridsvc.mine") || "[]");
  }
  $("mine").replaceChildren(
    ...(items.length ? items.map(caseItem) : [el("li", { class: "empty" }, t("no_reports"))]),
  );
}

function caseItem(c) {
  const s = c.supervision || {};
  const open = !["closed", "duplicate", "cancelled"].includes(c.status);
  const colour = open ? s.colour : "green";
  return el(
    "li",
    { class: `case ${colour}`, "data-number": c.number },
    el("span", { class: "badge", title: t(`colour_${colour}`) }, t(`colour_${colour}`)),
    el("strong", {}, c.category_name),
    el("span", { class: "status" }, t(`status_${c.status}`)),
    el("small", {}, `${c.number} · ${shortTime(c.created_at)}`, open && s.deadline ? ` · ${t("deadline")} ${shortTime(s.deadline)}` : ""),
  );
}

// ---- tabs and start --------------------------------------------------------------------------

function showTab(name) {
  for (const tab of ["new", "mine"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`panel-${tab}`).hidden = tab !== name;
  }
  if (name === "mine") loadMine();
  else map.invalidateSize();
}

function start(me) {
  initMap();
  watchPosition();
  loadMatters();
  showOutbox();
  sync();
  loadMine();
  loadMyGrid(me);
  setInterval(sync, SYNC_EVERY_MS);
  setInterval(() => loadMyGrid(me), GRID_EVERY_MS);
}

$("report-form").addEventListener("submit", submitReport);
$("category-search").addEventListener("input", (e) => showMatters(e.target.value));
$("photos").addEventListener("change", () => addPhotos($("photos"), photos, $("thumbs"), t("photos_label")));
$("after").addEventListener("change", () => addPhotos($("after"), afterPhotos, $("after-thumbs"), t("after_photos")));
$("fixed-here").addEventListener("change", (e) => { $("fix-fields").hidden = !e.target.checked; });
$("tab-new").addEventListener("click", () => showTab("new"));
$("tab-mine").addEventListener("click", () => showTab("mine"));
$("refresh").addEventListener("click", loadMine);
watchNetwork(sync);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/patrol/sw.js", { scope: "/patrol" }).catch(() => {});
signIn({ roles: ["patrol", "dispatcher", "admin"], onReady: start, offlineOk: true });
