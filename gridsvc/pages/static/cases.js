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
 *  `stillShown()` says whether the case is still on screen when a photo arrives. */
export async function showPhotos(view, box, stillShown = () => true) {
  const attached = view.history.filter((e) => e.action === "attach" && e.data?.attachment_id);
  box.replaceChildren(...(attached.length ? [] : [el("p", { class: "hint" }, t("no_photos"))]));
  for (const e of attached) {
    const response = await fetch(`/api/v1/cases/${view.id}/attachments/${e.data.attachment_id}`, {
      headers: { Authorization: `Bearer ${savedKey()}` },
    });
    if (!response.ok || !stillShown()) continue;
    const url = URL.createObjectURL(await response.blob());
    box.append(el("figure", {}, el("img", { src: url, alt: `${t("photos")} ${e.note || ""}` }),
      el("figcaption", {}, `${e.actor || t(`role_${e.role}`)} · ${shortTime(e.at)}`)));
  }
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
      await new Promise((resolve) => setTimeout(resolve, LIVE_RETRY_MS));
    }
  }
}
