// What this browser sent with each job it started. The API never returns inputs, so the page
// keeps the files and texts itself (in IndexedDB, for the latest jobs) to show results on the
// picture, the player and the text, also after a reload. Nothing here leaves the browser.

const DATABASE = "mien";
const STORE = "sent";
const KEEP_JOBS = 20;
const KEEP_BYTES = 500 * 1024 * 1024; // a job's files larger than this are kept for this tab only

const memory = new Map(); // job id → {files: Map(filename → File), texts: string[]}
let opened = null;

function database() {
  opened ??= new Promise((resolve) => {
    if (!window.indexedDB) return resolve(null);
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "jobId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null); // private windows may refuse: keep to memory
  });
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function remember(jobId, files, texts) {
  memory.set(jobId, { files: new Map(files.map((f) => [f.name, f])), texts });
  const db = await database();
  if (!db || files.reduce((sum, f) => sum + f.size, 0) > KEEP_BYTES) return;
  try {
    const store = db.transaction(STORE, "readwrite").objectStore(STORE);
    await done(store.put({ jobId, files, texts, savedMs: Date.now() }));
    const all = await done(store.getAll());
    all.sort((a, b) => b.savedMs - a.savedMs);
    for (const old of all.slice(KEEP_JOBS)) store.delete(old.jobId);
  } catch {
    // storage full or refused: this tab still has them in memory
  }
}

/** What this browser sent with `jobId`: {files: Map, texts}, or null. */
export async function recall(jobId) {
  if (memory.has(jobId)) return memory.get(jobId);
  const db = await database();
  if (!db) return null;
  try {
    const saved = await done(db.transaction(STORE).objectStore(STORE).get(jobId));
    return saved ? { files: new Map(saved.files.map((f) => [f.name, f])), texts: saved.texts } : null;
  } catch {
    return null;
  }
}

/** Drop every kept input. */
export async function forgetAll() {
  memory.clear();
  const db = await database();
  if (db) await done(db.transaction(STORE, "readwrite").objectStore(STORE).clear());
}
