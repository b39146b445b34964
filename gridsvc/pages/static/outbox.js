// The reports a patrol took that the server has not confirmed yet, kept in IndexedDB
// so a phone in a basement loses nothing: the page, a reload or a restart sends them
// when the network returns. Each keeps its Idempotency-Key, so a retry after a lost
// answer returns the same case instead of a second one.

const DB = "gridsvc-patrol";
const STORE = "outbox";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

/** Every waiting report, oldest first. */
export async function all() {
  const items = (await run("readonly", (s) => s.getAll())) || [];
  return items.sort((a, b) => a.taken_at.localeCompare(b.taken_at));
}

/** Add or update one report (its `key` is the Idempotency-Key). */
export const put = (item) => run("readwrite", (s) => s.put(item));

/** Forget one report: sent, or discarded by the patrol. */
export const remove = (key) => run("readwrite", (s) => s.delete(key));
