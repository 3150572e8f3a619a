// The public API, from the page: JSON in the contract's envelope, bearer tokens kept in
// IndexedDB, one refresh (POST /auth/refresh) when the access token has lapsed.
import * as store from "./store.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "NETWORK";
    this.details = error?.details || {};
  }
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: "NETWORK", message: "网络不可用" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.error);
  return data;
}

export async function call(method, path, body) {
  const tokens = (await store.get("tokens")) || {};
  try {
    return await send(method, path, body, tokens.access_token);
  } catch (e) {
    if (e.status !== 401 || !tokens.refresh_token) throw e;
    const fresh = await send("POST", "/auth/refresh", undefined, tokens.refresh_token).catch(() => null);
    if (!fresh) {
      await store.del("tokens");
      throw e;
    }
    await store.put("tokens", fresh);
    return send(method, path, body, fresh.access_token);
  }
}

/** Fen (integer) as yuan with two decimals: 12345 → "123.45". */
export function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Yuan as typed ("12", "12.3", "12.34") to integer fen, or null when it is not an amount. */
export function fen(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
}
