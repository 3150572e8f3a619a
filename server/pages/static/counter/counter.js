// The till: terminal sign-in, a scan field that a USB or serial scanner types into (the whole
// text, then Enter), the bill, the result and receipt, look-up by order number, refund, and the
// day's reconciliation. Money is typed in yuan and sent as integer fen.
import { request, say, sayError } from "/common/api.js";
import { fen, yuan } from "/common/money.js";
import { INSURANCE_TYPES, RELATIONS, label } from "/common/labels.js";

const $ = (id) => document.getElementById(id);
const SCENES = Object.fromEntries([...$("scene").options].map((o) => [o.value, o.text]));
let token = sessionStorage.getItem("terminal_token");
let scanToken = null;
let current = null; // the settlement shown
let person = null;

async function api(method, path, body) {
  try {
    return await request(method, `/api/v1/terminal${path}`, body, token);
  } catch (e) {
    if (e.status === 401) signOut();
    throw e;
  }
}

// --- sign-in ----------------------------------------------------------------------------------
function signOut() {
  token = null;
  sessionStorage.removeItem("terminal_token");
  $("desk").hidden = true;
  $("signin").hidden = false;
}

function openDesk() {
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("who-am-i").textContent = sessionStorage.getItem("terminal_id") || "";
  $("recon-date").value = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  $("scan").focus();
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const id = $("terminal-id").value.trim();
    const answer = await api("POST", "/token", { terminal_id: id, secret: $("terminal-secret").value });
    token = answer.access_token;
    sessionStorage.setItem("terminal_token", token);
    sessionStorage.setItem("terminal_id", id);
    $("terminal-secret").value = "";
    say("已签到", true);
    openDesk();
  } catch (e) {
    sayError(e);
  }
});

// --- the scan field keeps the focus, so a scanner's keystrokes always land in it --------------
const EDITING = new Set(["INPUT", "SELECT", "TEXTAREA", "BUTTON"]);
document.addEventListener("keydown", (event) => {
  if ($("desk").hidden || EDITING.has(document.activeElement?.tagName)) return;
  $("scan").focus();
});
$("scan").addEventListener("blur", () => {
  // Back to the scan field unless the cashier moved to another field or button on purpose.
  setTimeout(() => {
    if (!$("desk").hidden && !EDITING.has(document.activeElement?.tagName)) $("scan").focus();
  }, 0);
});

function newOrderNo() {
  const t = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const r = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${t}-${r}`.toUpperCase();
}

$("scan-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("scan").value; // exactly as typed: Base45 has spaces, never trim them
  $("scan").value = "";
  if (!text) return;
  try {
    const answer = await api("POST", "/scan", { qr_text: text });
    scanToken = answer.scan_token;
    person = answer.person;
    $("p-name").textContent = person.name_masked;
    $("p-id").textContent = person.id_number_masked;
    $("p-type").textContent = label(INSURANCE_TYPES, person.insurance_type);
    $("p-region").textContent = person.region;
    $("p-presenter").textContent = answer.presented_by
      ? `${answer.presented_by.name_masked}（${label(RELATIONS, answer.presented_by.relation)}）`
      : "本人";
    $("patient").hidden = false;
    $("bill").hidden = false;
    $("result").hidden = true;
    $("password-box").hidden = true;
    $("preview").hidden = true;
    $("password").value = "";
    $("order-no").value = newOrderNo();
    say("扫码成功，请录入金额", true);
    $("total").focus();
  } catch (e) {
    sayError(e);
    $("scan").focus();
  }
});

// --- the bill ---------------------------------------------------------------------------------
/** The bill's body, or null when an amount is not in yuan. An empty 统筹支付 is left out: the
 * server then computes the fund's share from the benefit policy (and explains it, fund_detail). */
function billBody() {
  const total = fen($("total").value);
  const fundText = $("fund").value.trim();
  const fund = fundText === "" ? undefined : fen(fundText);
  if (total === null || fund === null) {
    say("金额格式不对：请填写元，最多两位小数");
    return null;
  }
  const body = {
    order_no: $("order-no").value,
    scene: $("scene").value,
    medium: "ecredential",
    scan_token: scanToken,
    total_fen: total,
  };
  if (fund !== undefined) body.fund_fen = fund;
  if (!$("password-box").hidden && $("password").value) body.payment_password = $("password").value;
  return body;
}

function showPreview(q) {
  const table = document.createElement("table");
  table.append(
    row("总金额（元）", yuan(q.total_fen), "money"),
    row("统筹支付（元）", yuan(q.fund_fen), "money"),
    row("个人负担（元）", yuan(q.personal_burden_fen), "money"),
    ...q.paid_from_accounts.map((p) =>
      row(p.source === "self" ? "个人账户（元）" : `共济账户 ${p.holder_masked}（元）`, yuan(p.amount_fen), "money"),
    ),
    row("现金（元）", yuan(q.cash_due_fen), "money"),
  );
  const d = q.fund_detail;
  if (d) {
    table.append(
      row("计算规则", d.rule),
      row("符合范围（元）", yuan(d.eligible_fen), "money"),
      row("本次起付（元）", yuan(d.deductible_applied_fen), "money"),
    );
    if (d.ratio_bp !== null) table.append(row("报销比例", `${(d.ratio_bp / 100).toFixed(2)}%`));
    if (d.fixed_fen !== null) table.append(row("定额（元）", yuan(d.fixed_fen), "money"));
    if (d.cap_left_fen !== null) table.append(row("年度剩余限额（元）", yuan(d.cap_left_fen), "money"));
  }
  if (q.password_needed) table.append(row("支付密码", "需要输入"));
  const title = document.createElement("h3");
  title.textContent = "试算（未扣款）";
  $("preview").replaceChildren(title, table);
  $("preview").hidden = false;
}

$("preview-button").addEventListener("click", async () => {
  const body = billBody();
  if (!body) return;
  try {
    showPreview(await api("POST", "/settlements/preview", body));
    say("试算完成，确认后请点结算", true);
  } catch (e) {
    sayError(e);
  }
});

$("bill-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = billBody();
  if (!body) return;
  try {
    const answer = await api("POST", "/settlements", body);
    showResult(answer);
    $("bill").hidden = true;
    $("preview").hidden = true;
    say("结算完成", true);
    $("scan").focus();
  } catch (e) {
    if (e.code === "PASSWORD_REQUIRED" || e.code === "PAYMENT_PASSWORD_INVALID") {
      $("password-box").hidden = false;
      $("password").value = "";
      $("password-hint").textContent =
        e.code === "PASSWORD_REQUIRED"
          ? "本笔金额超过免密额度，请患者输入支付密码"
          : `支付密码错误，还可尝试 ${e.details.attempts_left} 次`;
      $("password").focus();
    }
    sayError(e);
  }
});

function row(label, value, cls = "") {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  const td = document.createElement("td");
  th.textContent = label;
  td.textContent = value;
  if (cls) td.className = cls;
  tr.append(th, td);
  return tr;
}

function showResult(s) {
  current = s;
  const table = document.createElement("table");
  table.append(
    row("订单号", s.order_no),
    row("场景", SCENES[s.scene] || s.scene),
    row("患者", person ? person.name_masked : ""),
    row("总金额（元）", yuan(s.total_fen), "money"),
    row("统筹支付（元）", yuan(s.fund_fen), "money"),
    row("个人负担（元）", yuan(s.personal_burden_fen), "money"),
  );
  for (const leg of s.paid_from_accounts) {
    const who = leg.source === "self" ? "个人账户" : `共济账户（${leg.source}）`;
    table.append(row(`${who} ${leg.holder_masked}`, yuan(leg.amount_fen), "money"));
  }
  table.append(
    row("应收现金（元）", yuan(s.cash_due_fen), "money"),
    row("结算时间", new Date(s.settled_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })),
  );
  if (s.status === "refunded") table.append(row("状态", "已退款", "stamp"));
  $("receipt").replaceChildren(table);
  $("receipt").dataset.settlementId = s.settlement_id;
  $("refund").disabled = s.status === "refunded";
  $("result").hidden = false;
}

$("print").addEventListener("click", () => window.print());
window.addEventListener("afterprint", () => $("scan").focus());

$("refund").addEventListener("click", async () => {
  if (!current) return;
  try {
    showResult(await api("POST", `/settlements/${encodeURIComponent(current.settlement_id)}/refund`));
    say("已退款，款项原路退回", true);
  } catch (e) {
    sayError(e);
  }
  $("scan").focus();
});

$("lookup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const orderNo = $("lookup-order").value.trim();
  if (!orderNo) return;
  try {
    person = null;
    showResult(await api("GET", `/settlements/by-order/${encodeURIComponent(orderNo)}`));
    say("已找到该笔结算", true);
  } catch (e) {
    sayError(e);
  }
});

$("recon-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const r = await api("GET", `/reconciliation?date=${encodeURIComponent($("recon-date").value)}`);
    const s = r.settlements;
    const table = document.createElement("table");
    table.append(
      row("机构", r.institution_code),
      row("结算笔数", String(s.count)),
      row("总金额（元）", yuan(s.total_fen), "money"),
      row("统筹（元）", yuan(s.fund_fen), "money"),
      row("个人账户（元）", yuan(s.personal_account_fen), "money"),
      row("共济（元）", yuan(s.mutual_aid_fen), "money"),
      row("现金（元）", yuan(s.cash_fen), "money"),
      row("退款笔数", String(r.refunds.count)),
      row("退款金额（元）", yuan(r.refunds.amount_fen), "money"),
      row("校验码", r.digest.slice(0, 16)),
    );
    $("recon").replaceChildren(table);
  } catch (e) {
    sayError(e);
  }
});

if (token) openDesk();
