// The planner's page: a layer's versions, a redrawn file uploaded as a draft (with its
// progress), the draft's problems on the map (a click flies there), what publishing it
// moves, and publish or roll back after a confirmation that says so. Every write names
// the versions it was previewed against (If-Match), so two planners cannot cross.

import { api, ApiError, config, el, pageMap, savedKey, shortTime, signIn, t, watchNetwork } from "./common.js";

const $ = (id) => document.getElementById(id);
const names = {}; // code -> name, from the active layer and the drafts drawn
const nameOf = (code) => (code ? names[code] || code : "—");
let map, activeLayer, draftLayer, marks, kind = "grids", versions = [], draft = null;

const active = () => versions.find((v) => v.status === "published");

// ---- versions ------------------------------------------------------------------------------

async function loadVersions() {
  ({ data: versions } = await api(`/api/v1/layers/${kind}/versions`));
  $("versions").replaceChildren(...versions.map((v) => el(
    "li", { class: v.status },
    el("strong", {}, `${v.id} · ${t(`status_${v.status}`)}`), " ", v.label, " ",
    el("small", {}, `${t("features_n", { n: v.features })} · ${shortTime(v.created_at)}`), " ",
    v.status === "draft" ? el("button", { type: "button", class: "link", onclick: () => openDraft(v.id, v.label) }, t("open_draft")) : null,
    el("button", { type: "button", class: "link", onclick: () => exportVersion(v) }, t("export")),
  )));
  $("rollback").disabled = versions.filter((v) => v.status !== "draft").length < 2;
  await drawActive();
}

async function exportVersion(v) {
  const response = await fetch(`/api/v1/layers/${kind}/versions/${v.id}.gpkg`, { headers: { Authorization: `Bearer ${savedKey()}` } });
  if (!response.ok) return;
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${kind}-${v.id}.gpkg` });
  document.body.append(link);
  link.click();
  link.remove();
}

async function features(version) {
  const query = version ? `&version=${version}` : "";
  const headers = query ? { Authorization: `Bearer ${savedKey()}` } : {}; // a draft is the planners' own
  const collection = await (await fetch(`/ogc/collections/${kind}/items?limit=10000${query}`, { headers })).json();
  for (const f of collection.features) if (f.properties.name) names[f.properties.code] ??= f.properties.name;
  return collection;
}

async function drawActive() {
  activeLayer?.remove();
  if (!active()) return;
  activeLayer = L.geoJSON(await features(null), { style: { color: "#1f5fa8", weight: 1.5, fillOpacity: 0.05 } }).addTo(map);
  map.fitBounds(activeLayer.getBounds(), { maxZoom: 16 });
}

// ---- uploading a draft --------------------------------------------------------------------------

function upload(event) {
  event.preventDefault();
  const form = new FormData($("upload-form"));
  const repairs = form.getAll("repair");
  form.delete("repair");
  if (repairs.length) form.set("repair", repairs.join(","));
  for (const name of ["layer", "crs", "encoding", "label"]) if (!form.get(name)) form.delete(name);
  const xhr = new XMLHttpRequest(); // fetch() cannot report upload progress
  xhr.open("POST", `/api/v1/layers/${kind}/drafts`);
  xhr.setRequestHeader("Authorization", `Bearer ${savedKey()}`);
  xhr.setRequestHeader("Accept-Language", config.lang); // the refusal's detail in the page's language
  $("progress").hidden = false;
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const p = Math.round((100 * e.loaded) / e.total);
    $("progress").value = p;
    $("message").textContent = p < 100 ? t("uploading", { p }) : t("checking_draft");
  };
  xhr.onload = async () => {
    $("progress").hidden = true;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: shown as status */ }
    if (xhr.status !== 201) {
      $("message").textContent = body.detail || `HTTP ${xhr.status}`;
      return;
    }
    $("message").textContent = "";
    $("upload-box").open = false;
    await loadVersions();
    await openDraft(body.id, body.label);
  };
  xhr.onerror = () => { $("progress").hidden = true; $("message").textContent = t("offline"); };
  xhr.send(form);
}

// ---- one draft ------------------------------------------------------------------------------------

async function openDraft(id, label) {
  const [{ data: validation }, { data: impact }] = await Promise.all([
    api(`/api/v1/layers/${kind}/drafts/${id}/validation`),
    api(`/api/v1/layers/${kind}/drafts/${id}/impact`),
  ]);
  draft = { id, label, validation, impact };
  $("draft").hidden = false;
  $("publish-confirm").hidden = true;
  $("draft-title").textContent = t("draft_title", { id, label });
  showProblems(validation);
  showImpact(impact);
  $("publish").disabled = validation.blocking > 0;
  $("publish").title = validation.blocking > 0 ? t("publish_blocked") : "";
  draftLayer?.remove();
  draftLayer = L.geoJSON(await features(id), { style: { color: "#e65100", weight: 2, dashArray: "6 4", fillOpacity: 0 } }).addTo(map);
  showImpact(impact); // again, now that the draft's new names are known
  drawMarks();
}

function showProblems(validation) {
  $("blocking").textContent = validation.blocking ? t("blocking_n", { n: validation.blocking }) : "";
  const items = validation.problems.map((p, i) => el(
    "li", { class: p.blocking ? "blocking" : "warning" },
    el("button", { type: "button", class: "link", "data-problem": i, onclick: () => goTo(p) },
      `${p.blocking ? t("blocking") : t("warning")} · ${p.message}`),
  ));
  $("problems").replaceChildren(...(items.length ? items : [el("li", {}, t("no_problems"))]));
}

function goTo(problem) {
  marks.clearLayers();
  drawMarks();
  if (problem.geometry) {
    const shape = L.geoJSON(problem.geometry, { style: { color: "#c62828", weight: 3, fillOpacity: 0.35 } }).addTo(marks);
    map.fitBounds(shape.getBounds(), { maxZoom: 18, padding: [40, 40] });
  } else if (problem.location) {
    L.circleMarker([problem.location[1], problem.location[0]], { radius: 10, color: "#c62828", weight: 3 }).addTo(marks);
    map.setView([problem.location[1], problem.location[0]], 17);
  }
}

function drawMarks() {
  marks.clearLayers();
  for (const m of draft?.impact.moved_cases || []) {
    L.circleMarker([m.lat, m.lon], { radius: 5, color: "#222", weight: 1, fillColor: m.open ? "#c62828" : "#9aa5b1", fillOpacity: 0.9 })
      .bindTooltip(`${m.number} ${t("from_to", { a: nameOf(m.from.grid_code), b: nameOf(m.to.grid_code) })}`).addTo(marks);
  }
}

function showImpact(impact) {
  const f = impact.features;
  $("changes").textContent = `${t("added")} ${f.added.length} · ${t("removed")} ${f.removed.length} · ${t("changed")} ${f.changed.length}`;
  const open = impact.moved_cases.filter((m) => m.open);
  $("moved-count").textContent = open.length ? t("moved_open", { n: open.length }) : t("no_moves");
  $("moved").replaceChildren(...impact.moved_cases.slice(0, 200).map((m) => el(
    "li", { class: m.open ? "open" : "" },
    `${m.number} · ${t(`status_${m.status}`)} · ${t("from_to", { a: nameOf(m.from.grid_code), b: nameOf(m.to.grid_code) })}`)));
  const changed = (r) => r.area_km2_before !== r.area_km2_after || r.open_before !== r.open_after;
  $("workload").tBodies[0].replaceChildren(...impact.workload.filter(changed).map((r) => el(
    "tr", {},
    el("td", {}, nameOf(r.grid_code)),
    el("td", {}, t("from_to", { a: r.area_km2_before, b: r.area_km2_after })),
    el("td", {}, t("from_to", { a: r.cases_per_month_before, b: r.cases_per_month_after })),
    el("td", {}, t("from_to", { a: r.open_before, b: r.open_after })),
  )));
}

// ---- publishing and rolling back ---------------------------------------------------------------

function askPublish() {
  const f = draft.impact.features;
  $("publish-text").textContent = t("confirm_publish", {
    active: active()?.id ?? "—", added: f.added.length, removed: f.removed.length,
    changed: f.changed.length, open: draft.impact.moved_cases.filter((m) => m.open).length,
  });
  $("publish-confirm").hidden = false;
}

async function publish() {
  const tags = [`"draft-${draft.id}"`, ...(active() ? [`"active-${active().id}"`] : [])].join(", ");
  try {
    const { data } = await api(`/api/v1/layers/${kind}/drafts/${draft.id}/publish`, { method: "POST", headers: { "If-Match": tags } });
    $("message").textContent = t("published", { id: data.published, n: data.reassigned });
    $("message").className = "message ok";
    $("draft").hidden = true;
    draftLayer?.remove();
    marks.clearLayers();
    draft = null;
  } catch (error) {
    $("message").className = "message";
    $("message").textContent = error instanceof ApiError && error.status === 412 ? t("stale") : error.message;
  }
  await loadVersions();
}

async function rollback() {
  try {
    const { data } = await api(`/api/v1/layers/${kind}/rollback`, { method: "POST", headers: { "If-Match": `"active-${active().id}"` } });
    $("message").textContent = t("rolled_back", { n: data.reassigned ?? 0 });
    $("message").className = "message ok";
  } catch (error) {
    $("message").className = "message";
    $("message").textContent = error instanceof ApiError && error.status === 412 ? t("stale") : error.message;
  }
  $("rollback-confirm").hidden = true;
  await loadVersions();
}

function start() {
  map = pageMap({}, config.center, 14);
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
  marks = L.layerGroup().addTo(map);
  loadVersions();
}

$("kind").addEventListener("change", (e) => { kind = e.target.value; $("draft").hidden = true; draftLayer?.remove(); loadVersions(); });
$("upload-form").addEventListener("submit", upload);
$("publish").addEventListener("click", askPublish);
$("publish-yes").addEventListener("click", publish);
$("rollback").addEventListener("click", () => {
  $("rollback-text").textContent = t("confirm_rollback", { active: active()?.id ?? "—" });
  $("rollback-confirm").hidden = false;
});
$("rollback-yes").addEventListener("click", rollback);
for (const button of document.querySelectorAll(".confirm .cancel")) button.addEventListener("click", () => { button.closest(".confirm").hidden = true; });
watchNetwork();
signIn({ roles: ["planner", "admin"], onReady: start });
