// The public API, from the page: JSON in the contract's envelope, bearer tokens kept in
// IndexedDB, one refresh (POST /auth/refresh) when the access token has lapsed.
import { ApiError, request } from "/common/api.js";
import * as store from "./store.js";

export { ApiError };
export { fen, yuan } from "/common/money.js";

async function send(method, path, body, token) {
  return request(method, `/api/v1${path}`, body, token);
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
