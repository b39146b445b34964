// How the pages show one case (status line, photos, history) and shrink a photo before
// it is sent; shared by the patrol's, the dispatcher's and the handler's pages.

import { api, el, savedKey, shortTime, t } from "./common.js";

const PHOTO_EDGE = 1600; // px: a downscaled photo is some 300 KB instead of 4 MB

/** A camera photo as a JPEG whose long edge is at most 1600 px (the file itself if the
 *  browser cannot draw it: the server decides). */
export async function downscale(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_EDGE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
  } catch {
    return file;
  }
}

/** Send one photo for a case (multipart, with the key). */
export function uploadPhoto(caseId, blob, index) {
  const form = new FormData();
  form.append("file", blob, `photo-${index + 1}.jpg`);
  return api(`/api/v1/cases/${caseId}/attachments`, { method: "POST", body: form });
}

/** The colour badge, the status and the deadline of a case view. */
export function statusLine(view) {
  const s = view.supervision;
  return [
    el("span", { class: `badge ${s.colour}` }, t(`colour_${s.colour}`)), " ",
    t(`status_${view.status}`),
    view.open && s.deadline ? ` · ${t("deadline")} ${shortTime(s.deadline)}` : "",
  ];
}

/** The history as list items: time, action, who (and, in a district, at which centre),
 *  note. */
export function historyItems(view, centreName = (code) => code) {
  return view.history.map((e) =>
    el("li", {}, el("time", {}, shortTime(e.at)), " ", t(`action_${e.action}`),
      e.actor ? ` · ${e.actor}` : "", e.data?.centre ? ` · ${t("at_centre", { centre: centreName(e.data.centre) })}` : "",
      e.note ? ` · ${e.note}` : ""));
}

/** Draw the case's photos into `box` (fetched with the key: an <img src> cannot send it).
 *  Each photo has its place in the order of the history before any arrives, all are fetched
 *  at once, a failed fetch is tried again (a slow intranet, a busy server) and then says so
 *  with a button to try again; a later call for the same box (this case or another opened)
 *  supersedes this one, so two calls never interleave their photos. */
export function showPhotos(view, box) {
  const attached = view.history.filter((e) => e.action === "attach" && e.data?.attachment_id);
  const token = {};
  box.photosToken = token;
  const current = () => box.photosToken === token;
  const places = attached.map((e) => el("figure", {},
    el("figcaption", {}, `${e.actor || t(`role_${e.role}`)} · ${shortTime(e.at)}`)));
  box.replaceChildren(...(attached.length ? places : [el("p", { class: "hint" }, t("no_photos"))]));
  return Promise.all(attached.map((e, i) => fillPhoto(view.id, e, places[i], current)));
}

const PHOTO_TRIES = 3;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fillPhoto(caseId, event, place, current) {
  for (let attempt = 1; attempt <= PHOTO_TRIES; attempt++) {
    try {
      const response = await fetch(`/api/v1/cases/${caseId}/attachments/${event.data.attachment_id}`, {
        headers: { Authorization: `Bearer ${savedKey()}` },
      });
      if (response.ok) {
        const url = URL.createObjectURL(await response.blob());
        if (current()) place.prepend(el("img", { src: url, alt: `${t("photos")} ${event.note || ""}` }));
        return;
      }
      if (response.status < 500 && response.status !== 429) break; // gone or not ours: no retry
    } catch {
      // offline for a moment: try again
    }
    if (!current()) return;
    await pause(500 * attempt);
    if (!current()) return;
  }
  if (!current()) return;
  const again = el("button", { type: "button", class: "link" }, t("photo_retry"));
  const hint = el("p", { class: "hint" }, t("photo_failed"), " ", again);
  again.addEventListener("click", () => { hint.remove(); fillPhoto(caseId, event, place, current); });
  place.prepend(hint);
}

const LIVE_WAIT_S = 20; // under the 30 s idle timeout of common proxies
const LIVE_RETRY_MS = 3000;

/** Long-poll /changes for as long as the page is open: `onItems(items)` gets the cases that
 *  changed (never the first answer, which only sets the cursor), `indicator` says whether the
 *  page is live. The cursor lives in the database, so any worker or host can answer. */
export async function watchChanges(onItems, indicator) {
  let cursor = null;
  for (;;) {
    try {
      const query = cursor == null ? "" : `?after=${cursor}&wait=${LIVE_WAIT_S}`;
      const { data } = await api(`/api/v1/changes${query}`);
      if (cursor != null && data.items.length) onItems(data.items);
      cursor = data.cursor;
      indicator.textContent = t("live");
      indicator.className = "live on";
    } catch {
      indicator.textContent = t("live_lost");
      indicator.className = "live off";
      await pause(LIVE_RETRY_MS);
    }
  }
}
