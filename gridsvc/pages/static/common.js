// What every role page shares: its words, the key the browser keeps, and API calls.
// The key lives in localStorage of this origin only and goes out as a Bearer header,
// never in a URL; a 401 forgets it so the page asks again.

const KEY = "gridsvc.key";

export const texts = JSON.parse(document.getElementById("texts").textContent);
export const config = JSON.parse(document.getElementById("config").textContent);

/** The word `name` with {placeholders} filled in. */
export function t(name, values = {}) {
  const words = texts[name] ?? name;
  return words.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

export const savedKey = () => localStorage.getItem(KEY);
export const saveKey = (key) => localStorage.setItem(KEY, key);
export const forgetKey = () => localStorage.removeItem(KEY);

/** An API answer that was not 2xx: its status and the problem's detail (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** fetch() with the saved key; JSON in and out; throws ApiError (HTTP) or TypeError (network).
 * It asks for the page's language, so a refusal's detail reads as the page does (the
 * browser's own Accept-Language is the computer's, not the page's zh/en). */
export async function api(path, { method = "GET", json, body, headers = {}, key } = {}) {
  const sent = { "Accept-Language": config.lang, ...headers, Authorization: `Bearer ${key ?? savedKey()}` };
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers: sent, body, cache: "no-store" });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: data });
  return { data, status: response.status, etag: response.headers.get("ETag") };
}

/** A timestamp as local date and time, e.g. 12-06 14:05. */
export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A new element with attributes and children (text or nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child != null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A random id for Idempotency-Key (crypto.randomUUID needs a secure context). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const ME = "gridsvc.me";

/** Who the saved key is (as /me answered when it was pasted), or null. */
export const savedMe = () => JSON.parse(localStorage.getItem(ME) || "null");

/**
 * The sign-in every page shares: with a saved key, `onReady(me)` at once; otherwise the
 * form, whose key is checked at /api/v1/me against the page's `roles` before it is kept.
 * Offline, a pasted key is kept unchecked (`offlineOk`: the patrol's basement).
 */
export function signIn({ roles, onReady, offlineOk = false }) {
  const form = document.getElementById("signin-form");
  const message = document.getElementById("signin-message");
  const signout = document.getElementById("signout");
  const show = (signedIn) => {
    document.getElementById("signin").hidden = signedIn;
    document.getElementById("app").hidden = !signedIn;
    signout.hidden = !signedIn;
  };
  const phoneCode = document.getElementById("phone-code");
  phoneCode.addEventListener("click", showPhoneCode);
  const ready = (me) => {
    show(true);
    phoneCode.hidden = false;
    document.getElementById("who").textContent = me ? me.name : "";
    onReady(me);
  };
  signout.addEventListener("click", () => {
    forgetKey();
    localStorage.removeItem(ME);
    location.reload();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("key");
    const key = input.value.trim();
    message.textContent = t("checking");
    let me = null;
    try {
      ({ data: me } = await api("/api/v1/me", { key }));
    } catch (error) {
      if (error instanceof ApiError || !offlineOk) {
        message.textContent = error instanceof ApiError ? t("bad_key") : t("offline");
        return;
      }
      message.textContent = t("offline_unchecked");
    }
    if (me && !roles.includes(me.role)) {
      message.textContent = t("not_role");
      return;
    }
    saveKey(key);
    if (me) localStorage.setItem(ME, JSON.stringify(me));
    input.value = "";
    message.textContent = "";
    ready(me);
  });
  const scanned = keyFromAddress();
  if (scanned) {
    forgetKey();
    localStorage.removeItem(ME);
    document.getElementById("key").value = scanned;
    show(false);
    form.requestSubmit(); // checked like a pasted key
    return;
  }
  const me = savedMe();
  if (savedKey() && (!me || roles.includes(me.role))) {
    ready(me);
  } else {
    show(false);
    document.getElementById("key").focus();
  }
}

/** The key a scanned sign-in code carried in the address's fragment (never sent to a
 *  server), wiped from the address bar and the history at once. */
function keyFromAddress() {
  if (!location.hash.startsWith("#key=")) return null;
  const key = decodeURIComponent(location.hash.slice(5)).trim();
  history.replaceState(null, "", location.pathname + location.search);
  return key || null;
}

/** The QR code that opens this page on a phone, signed in with this key. */
async function showPhoneCode() {
  const response = await fetch(`/api/v1/me/sign-in-code?page=${encodeURIComponent(location.pathname)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${savedKey()}` },
  });
  if (!response.ok) return;
  const image = document.getElementById("code-image");
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(await response.blob());
  document.getElementById("code-dialog").showModal();
}

/** The online/offline badge in the bar, kept current. */
export function watchNetwork(onOnline = () => {}) {
  const badge = document.getElementById("net");
  const showNet = () => {
    badge.textContent = navigator.onLine ? t("online") : t("offline");
    badge.className = navigator.onLine ? "net on" : "net off";
  };
  window.addEventListener("online", () => { showNet(); onOnline(); });
  window.addEventListener("offline", showNet);
  showNet();
}

/** A Leaflet map in #map whose drawn shapes are not announced one by one: the list beside
 *  each map names the same cases, problems or grids in words. */
export function pageMap(options, center, zoom) {
  const map = L.map("map", { attributionControl: false, ...options }).setView(center, zoom);
  map.getPane("overlayPane").setAttribute("aria-hidden", "true");
  return map;
}
