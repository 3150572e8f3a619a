// The agency desk: clerk sign-in; a roster file checked whole (every bad row listed, nothing
// written), then imported in batches with progress; and the clerk's single-person calls.
import { ApiError } from "/counter/money.js";

const $ = (id) => document.getElementById(id);
const HEADER = ["id_number", "name", "phone", "region", "insurance_type", "person_type", "face_template"];
const BATCH_ROWS = 200; // rows per import call: small enough for a smooth bar, large enough to be quick
let token = sessionStorage.getItem("admin_token");

function say(text, ok = false) {
  $("status").textContent = text;
  $("status").className = ok ? "ok" : "";
}

function sayError(e) {
  say(e instanceof ApiError ? `${e.message}（${e.code}）` : String(e.message || e));
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => {
    throw new ApiError(0, { code: "NETWORK", message: "网络不可用" });
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/login") signOut();
  if (!response.ok) throw new ApiError(response.status, data.error);
  return data;
}

function signOut() {
  token = null;
  sessionStorage.removeItem("admin_token");
  $("desk").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
}

function openDesk() {
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const answer = await api("POST", "/login", { username: $("username").value, password: $("password").value });
    token = answer.access_token;
    sessionStorage.setItem("admin_token", token);
    $("password").value = "";
    say("已登录", true);
    openDesk();
  } catch (e) {
    sayError(e);
  }
});
$("signout").addEventListener("click", signOut);

// --- CSV (RFC 4180: quotes, doubled quotes, CRLF; a UTF-8 BOM is dropped) ----------------------
export function parseCsv(text) {
  const records = [];
  let record = [];
  let field = "";
  let quoted = false;
  text = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || record.length) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => !(r.length === 1 && r[0].trim() === ""));
}

/** The file's rows as roster persons, or the problems of its shape (row numbers count the
 * header as row 1, as a spreadsheet shows them). */
function rosterRows(records) {
  const problems = [];
  const header = (records[0] || []).map((h) => h.trim());
  const missing = HEADER.filter((h) => h !== "person_type" && !header.includes(h));
  const unknown = header.filter((h) => !HEADER.includes(h));
  if (missing.length || unknown.length) {
    problems.push({ row: 1, field: [...missing, ...unknown].join(", "), reason: "首行字段名不对" });
    return { persons: [], problems };
  }
  const persons = [];
  records.slice(1).forEach((cells, i) => {
    if (cells.length !== header.length) {
      problems.push({ row: i + 2, field: "-", reason: `应有 ${header.length} 列，实际 ${cells.length} 列` });
    }
    const value = (name) => (cells[header.indexOf(name)] ?? "").trim();
    const person = {
      id_number: value("id_number").toUpperCase(),
      name: value("name"),
      phone: value("phone") || null,
      region: value("region"),
      insurance_type: value("insurance_type"),
      face_template: value("face_template"),
    };
    if (header.includes("person_type") && value("person_type")) person.person_type = value("person_type");
    persons.push(person);
  });
  if (!persons.length) problems.push({ row: 2, field: "-", reason: "文件没有数据行" });
  return { persons, problems };
}

function listProblems(problems) {
  const body = $("problem-rows");
  body.replaceChildren(
    ...problems.map((p) => {
      const tr = document.createElement("tr");
      for (const text of [String(p.row), p.field, p.reason]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  $("problems").hidden = problems.length === 0;
}

function setBar(id, done, total) {
  $(id).max = Math.max(total, 1);
  $(id).value = done;
  $(id.replace("-progress", "-count")).value = `${done} / ${total}`;
}

$("roster-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("roster-file").files[0];
  if (!file) return;
  $("progress").hidden = true;
  listProblems([]);
  try {
    if (!/\.csv$/i.test(file.name)) {
      listProblems([{ row: 1, field: "-", reason: "请上传 CSV 文件（UTF-8）" }]);
      return say("文件格式不支持");
    }
    const { persons, problems } = rosterRows(parseCsv(await file.text()));
    if (problems.length) {
      listProblems(problems);
      return say(`文件有 ${problems.length} 处问题，未导入`);
    }
    say("正在检查整个文件…", true);
    const checked = await api("POST", "/insured/check", { persons });
    if (checked.invalid_count) {
      listProblems(checked.problems.map((p) => ({ row: p.index + 2, field: p.field, reason: p.reason })));
      return say(`${checked.invalid_count} 行有问题，未导入任何数据；请修改后重新上传`);
    }
    // Clean: import in batches, each all-or-nothing on the server.
    const withPhone = persons.filter((p) => p.phone).length;
    $("progress").hidden = false;
    setBar("import-progress", 0, persons.length);
    setBar("sms-progress", 0, withPhone);
    let done = 0;
    let sent = 0;
    let created = 0;
    let updated = 0;
    for (let i = 0; i < persons.length; i += BATCH_ROWS) {
      const batch = persons.slice(i, i + BATCH_ROWS);
      const answer = await api("POST", "/insured", { persons: batch });
      created += answer.created;
      updated += answer.updated;
      done += batch.length;
      sent += batch.filter((p) => p.phone).length; // the server texts each initial password in the call
      setBar("import-progress", done, persons.length);
      setBar("sms-progress", sent, withPhone);
    }
    say(`导入完成：新增 ${created} 人，更新 ${updated} 人`, true);
  } catch (e) {
    sayError(e);
  }
});

// --- single-person and institution calls ------------------------------------------------------
const ACTIONS = {
  phone: (f) => api("PATCH", `/insured/${encodeURIComponent(f.id_number)}`, { phone: f.phone }),
  reset: (f) => api("POST", `/insured/${encodeURIComponent(f.id_number)}/password-reset`),
  lost: (f) => api("POST", `/cards/${encodeURIComponent(f.card_no)}/report-lost`),
  claim: (f) =>
    api("POST", `/reimbursements/${encodeURIComponent(f.claim_id)}/decision`, {
      approve: f.approve === "on",
      ...(f.reason ? { reason: f.reason } : {}),
    }),
  institution: (f) => api("POST", "/institutions", { code: f.code, name: f.name, kind: f.kind }),
  terminal: async (f) => {
    const t = await api("POST", "/terminals", { institution_code: f.institution_code });
    $("terminal-made").hidden = false;
    $("terminal-made").textContent = `终端编号 ${t.terminal_id}\n终端密钥 ${t.secret}（只显示这一次）`;
    return t;
  },
  rotate: () => api("POST", "/keys/rotate"),
};

for (const form of document.querySelectorAll("form[data-action]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await ACTIONS[form.dataset.action](Object.fromEntries(new FormData(form)));
      say("已完成", true);
    } catch (e) {
      sayError(e);
    }
  });
}

$("credit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const records = parseCsv(await $("credit-file").files[0].text());
    const header = records[0].map((h) => h.trim());
    const credits = records.slice(1).map((cells) => ({
      id_number: cells[header.indexOf("id_number")].trim().toUpperCase(),
      amount_fen: Number.parseInt(cells[header.indexOf("amount_fen")], 10),
    }));
    const r = await api("POST", "/credits", { month: $("credit-month").value, credits });
    say(`划入 ${r.credited} 人，跳过 ${r.skipped} 人`, true);
  } catch (e) {
    sayError(e);
  }
});

if (token) openDesk();
