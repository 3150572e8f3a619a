// The phone page: SMS login, activation, and the e-credential code made here, offline.
// docs/qr-format.md is the spec of the code; ec1.js implements it, qr.js draws it.
import { ApiError, call } from "./api.js";
import * as ec1 from "./ec1.js";
import { drawQr } from "./qr.js";
import { RELATIONS, label } from "/common/labels.js";
import * as store from "./store.js";
import { sections } from "./sections.js";

const $ = (id) => document.getElementById(id);
const KIT_RENEW_BEFORE_MS = 24 * 3600 * 1000; // ask for a new kit when less than a day is left
const QR_MAX_PIXELS = 400;

// --- status line and elder mode ---------------------------------------------------------------
export function say(text, ok = false) {
  $("status").textContent = text;
  $("status").className = ok ? "ok" : "";
}

export function sayError(e) {
  say(e instanceof ApiError ? `${e.message}（${e.code}）` : String(e.message || e));
}

function applyElder(on) {
  document.documentElement.classList.toggle("elder", on);
  $("elder").checked = on;
}
applyElder(localStorage.getItem("elder") === "1");
$("elder").addEventListener("change", (e) => {
  localStorage.setItem("elder", e.target.checked ? "1" : "0");
  applyElder(e.target.checked);
});

// --- views ------------------------------------------------------------------------------------
const VIEWS = ["login", "activate", "code", "family", "aid", "account"];

export function show(view) {
  for (const v of VIEWS) $(v).hidden = v !== view;
  $("tabs").hidden = !["code", "family", "aid", "account"].includes(view);
  for (const b of document.querySelectorAll("#tabs [data-tab]")) {
    if (b.dataset.tab === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (sections[view]) sections[view]($(view)).catch(sayError);
}

for (const b of document.querySelectorAll("#tabs [data-tab]")) {
  b.addEventListener("click", () => show(b.dataset.tab));
}

// --- login ------------------------------------------------------------------------------------
$("send-code").addEventListener("click", async () => {
  try {
    await call("POST", "/auth/sms-code", { phone: $("phone").value.trim() });
    say("验证码已发送", true);
  } catch (e) {
    sayError(e);
  }
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const tokens = await call("POST", "/auth/login", {
      phone: $("phone").value.trim(),
      code: $("sms-code").value.trim(),
    });
    await store.put("tokens", tokens);
    say("");
    await start();
  } catch (e) {
    sayError(e);
  }
});

$("logout").addEventListener("click", async () => {
  await call("POST", "/auth/logout").catch(() => {});
  await store.clear();
  stopCode();
  say("已退出", true);
  show("login");
});

// --- activation -------------------------------------------------------------------------------
async function deviceKey() {
  let keys = await store.get("device");
  if (!keys) {
    keys = await ec1.newDeviceKey();
    await store.put("device", keys);
  }
  return keys;
}

function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

$("activate-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("face").files[0];
  if (!$("consent").checked) return say("请先阅读并勾选同意");
  if (!file) return say("请拍摄人脸照片");
  try {
    const keys = await deviceKey();
    const receivedAt = Date.now();
    const answer = await call("POST", "/activation", {
      region: $("region").value,
      id_number: $("id-number").value.trim().toUpperCase(),
      name: $("name").value.trim(),
      payment_password: $("pay-password").value,
      face_image: await fileBase64(file),
      consent: true,
      device_public_key: await ec1.publicKeyB64url(keys),
    });
    await saveKit("self", answer.offline_kit, receivedAt);
    $("activate-form").reset();
    say("激活成功", true);
    await start();
  } catch (e) {
    sayError(e);
  }
});

// --- offline kits -----------------------------------------------------------------------------
async function saveKit(who, kit, receivedAtMs) {
  await store.put(`kit:${who}`, {
    kit,
    offsetMs: ec1.clockOffsetMs(kit.server_time, receivedAtMs),
  });
}

/** The kit for `who` ("self" or a member id), renewed when online and near its end. */
export async function kitFor(who) {
  const saved = await store.get(`kit:${who}`);
  const left = saved ? Date.parse(saved.kit.expires_at) - (Date.now() + saved.offsetMs) : 0;
  if (left > KIT_RENEW_BEFORE_MS || !navigator.onLine) return saved;
  try {
    const keys = await deviceKey();
    const receivedAt = Date.now();
    const query = who === "self" ? "" : `?member=${encodeURIComponent(who)}`;
    const kit = await call("POST", `/credential/offline-kit${query}`, {
      device_public_key: await ec1.publicKeyB64url(keys),
    });
    await saveKit(who, kit, receivedAt);
    return store.get(`kit:${who}`);
  } catch (e) {
    if (e.code !== "NETWORK") throw e;
    return saved; // no network after all: the saved kit, if it still has time
  }
}

// --- the code: a new one every 30-second step, counted down -----------------------------------
let timer = null;
let shown = { who: null, step: null };

function stopCode() {
  clearInterval(timer);
  timer = null;
  shown = { who: null, step: null };
}

async function tick() {
  const who = $("who").value;
  const saved = await store.get(`kit:${who}`);
  if (!saved) {
    $("countdown").textContent = "离线凭证未就绪，请联网后重试";
    return;
  }
  const nowMs = Date.now() + saved.offsetMs;
  if (nowMs >= Date.parse(saved.kit.expires_at)) {
    $("countdown").textContent = "离线凭证已过期，请联网刷新";
    $("qr").hidden = true;
    return;
  }
  const window = ec1.codeWindow(Math.floor(nowMs / 1000));
  if (shown.who !== who || shown.step !== window.step) {
    shown = { who, step: window.step };
    const keys = await store.get("device");
    const text = await ec1.present(ec1.b64urlDecode(saved.kit.device_attestation), keys.privateKey, {
      codeId: crypto.getRandomValues(new Uint8Array(16)),
      issuedAt: window.issuedAt,
      expiresAt: window.expiresAt,
      counter: await store.nextCounter(),
    });
    $("qr").hidden = false;
    drawQr($("qr"), text, Math.min(QR_MAX_PIXELS, $("code").clientWidth - 32));
    $("qr").dataset.text = text; // the drawn text, for assistive tools and tests
  }
  $("countdown").textContent = `${window.refreshAfterSeconds} 秒后自动刷新`;
  $("offline-note").textContent = navigator.onLine ? "" : "当前离线：医保码由本机生成，仍可使用";
}

export async function showCode(who = "self", label = who) {
  if (![...$("who").options].some((o) => o.value === who)) {
    $("who").add(new Option(label, who));
  }
  $("who").value = who;
  show("code");
  await kitFor(who);
  shown = { who: null, step: null };
  await tick();
  if (!timer) timer = setInterval(() => tick().catch(sayError), 1000);
}

$("who").addEventListener("change", () => showCode($("who").value).catch(sayError));
window.addEventListener("online", () => tick().catch(sayError));
window.addEventListener("offline", () => tick().catch(sayError));

// --- start ------------------------------------------------------------------------------------
async function start() {
  const tokens = await store.get("tokens");
  if (!tokens) return show("login");
  let me;
  try {
    me = await call("GET", "/me");
  } catch (e) {
    if (e.code === "NETWORK" && (await store.get("kit:self"))) return showCode("self");
    if (e.status === 401) {
      await store.del("tokens");
      return show("login");
    }
    throw e;
  }
  if (!me.credential || me.credential.status !== "active") return show("activate");
  $("code-who").textContent = me.person ? `${me.person.name_masked}  ${me.person.id_number_masked}` : "";
  const who = $("who");
  while (who.options.length > 1) who.remove(1);
  for (const m of me.family_members || []) {
    who.add(new Option(`${m.name_masked}（${label(RELATIONS, m.relation)}）`, m.member_id));
  }
  await showCode("self");
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
}
start().catch(sayError);
