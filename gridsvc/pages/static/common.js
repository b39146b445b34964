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

/** fetch() with the saved key; JSON in and out; throws ApiError (HTTP) or TypeError (network). */
export async function api(path, { method = "GET", json, body, headers = {}, key } = {}) {
  const sent = { ...headers, Authorization: `Bearer ${key ?? savedKey()}` };
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
