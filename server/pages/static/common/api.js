// What every page shares with the public API: JSON in the contract's envelope, an error as an
// ApiError (a lost network as code NETWORK), and the bearer token when there is one.
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "NETWORK";
    this.details = error?.details || {};
  }
}

/** One call to `url`: the answer's JSON, or an ApiError. */
export async function request(method, url, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
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

/** A desk page's status line (#status): an error in red, or a success when `ok`. */
export function say(text, ok = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = ok ? "ok" : "";
}

export function sayError(e) {
  say(e instanceof ApiError ? `${e.message}（${e.code}）` : String(e.message || e));
}
