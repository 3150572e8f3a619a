// EC1 codes made in the browser from an offline kit: a second, independent implementation of
// docs/qr-format.md (the server's is server/credentials/ec1.py; this file reads only the doc).
//
//   qr_text      = "EC1:" + Base45( 0x82 || attestation || presentation )
//   presentation = COSE_Sign1 [ h'a10127', {}, payload, signature ]   (untagged)
//   payload      = { 1: code id (16 random bytes), 2: issued-at, 3: expires, 4: counter }
//   signature    = Ed25519 over CBOR ["Signature1", h'a10127', SHA-256(attestation), payload]
//
// The device key is a WebCrypto Ed25519 key made non-extractable: only its public half leaves.

export const PREFIX = "EC1:";
export const STEP_SECONDS = 30; // RFC 6238 time step
export const CODE_LIFETIME_SECONDS = 60; // issued-at + 60 at most
const PROTECTED = new Uint8Array([0xa1, 0x01, 0x27]); // {1: -8}: alg EdDSA

// --- deterministic CBOR (RFC 8949 §4.2.1): shortest heads, definite lengths -----------------
function head(major, n) {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const big = BigInt(n);
  const out = [m | 27];
  for (let shift = 56n; shift >= 0n; shift -= 8n) out.push(Number((big >> shift) & 0xffn));
  return out;
}

/** CBOR bytes of: a non-negative safe integer, a Uint8Array, a string, an array, or a Map with
 * small unsigned integer keys given in ascending order (the only maps EC1 signs). */
export function cbor(item) {
  const out = [];
  const put = (x) => {
    if (typeof x === "number") {
      if (!Number.isSafeInteger(x) || x < 0) throw new RangeError("unsigned integers only");
      out.push(...head(0, x));
    } else if (x instanceof Uint8Array) {
      out.push(...head(2, x.length), ...x);
    } else if (typeof x === "string") {
      const bytes = new TextEncoder().encode(x);
      out.push(...head(3, bytes.length), ...bytes);
    } else if (Array.isArray(x)) {
      out.push(...head(4, x.length));
      x.forEach(put);
    } else if (x instanceof Map) {
      out.push(...head(5, x.size));
      let last = -1;
      for (const [k, v] of x) {
        if (!(Number.isInteger(k) && k > last && k < 24)) throw new RangeError("map keys 0..23, sorted");
        last = k;
        put(k);
        put(v);
      }
    } else {
      throw new TypeError("not an EC1 CBOR item");
    }
  };
  put(item);
  return new Uint8Array(out);
}

// --- Base45 (RFC 9285) ------------------------------------------------------------------------
const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

export function base45(bytes) {
  let s = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i] * 256 + bytes[i + 1];
    s += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    s += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return s;
}

export function b64urlDecode(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export function b64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// --- keys and time ----------------------------------------------------------------------------
/** A new device key: Ed25519, private half non-extractable (it never leaves this browser). */
export async function newDeviceKey() {
  return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
}

export async function publicKeyB64url(keyPair) {
  return b64url(new Uint8Array(await crypto.subtle.exportKey("raw", keyPair.publicKey)));
}

/** The code window of an instant (Unix seconds, corrected): step T = floor(now / 30);
 * issued-at = 30·T, expires = 30·T + 60; the next code is due at 30·(T + 1). */
export function codeWindow(nowSeconds) {
  const step = Math.floor(nowSeconds / STEP_SECONDS);
  const issuedAt = step * STEP_SECONDS;
  return {
    step,
    issuedAt,
    expiresAt: issuedAt + CODE_LIFETIME_SECONDS,
    refreshAfterSeconds: issuedAt + STEP_SECONDS - nowSeconds,
  };
}

/** The phone's clock corrected by the kit: server_time − this clock at receipt (ms). */
export function clockOffsetMs(serverTimeIso, receivedAtMs) {
  return Date.parse(serverTimeIso) - receivedAtMs;
}

// --- a code -----------------------------------------------------------------------------------
async function sign(privateKey, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, bytes));
}

/** The QR text of one code: the kit's attestation (its CBOR bytes, as the server sent them)
 * with a presentation signed now by the device key. `codeId` is 16 random bytes. */
export async function present(attestation, privateKey, { codeId, issuedAt, expiresAt, counter }) {
  if (!(codeId instanceof Uint8Array) || codeId.length !== 16) throw new RangeError("code id: 16 bytes");
  if (!(expiresAt > issuedAt && expiresAt - issuedAt <= CODE_LIFETIME_SECONDS)) throw new RangeError("life");
  if (!(counter >= 1)) throw new RangeError("the counter starts at 1");
  const payload = cbor(new Map([[1, codeId], [2, issuedAt], [3, expiresAt], [4, counter]]));
  const aad = new Uint8Array(await crypto.subtle.digest("SHA-256", attestation));
  const toSign = cbor(["Signature1", PROTECTED, aad, payload]);
  const signature = await sign(privateKey, toSign);
  const presentation = cbor([PROTECTED, new Map(), payload, signature]);
  const all = new Uint8Array(1 + attestation.length + presentation.length);
  all[0] = 0x82; // an array of two: attestation, presentation
  all.set(attestation, 1);
  all.set(presentation, 1 + attestation.length);
  return PREFIX + base45(all);
}
