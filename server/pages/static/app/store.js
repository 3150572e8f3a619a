// IndexedDB: the device key pair (a non-extractable CryptoKey, stored as itself), the offline
// kits (one per person whose code this phone shows), the counter, and the session tokens.
const DB = "ecredential";
const STORE = "kv";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const get = (key) => run("readonly", (s) => s.get(key));
export const put = (key, value) => run("readwrite", (s) => s.put(value, key));
export const del = (key) => run("readwrite", (s) => s.delete(key));
export const clear = () => run("readwrite", (s) => s.clear());

/** The next counter of this device key, persisted before the code is shown, so a counter is
 * never reused even if the page is closed right after (the server wants it to grow per kit). */
export async function nextCounter() {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      const s = tx.objectStore(STORE);
      let value = 0;
      const req = s.get("counter");
      req.onsuccess = () => {
        value = (req.result || 0) + 1;
        s.put(value, "counter");
      };
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
