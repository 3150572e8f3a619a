// The agency desk: clerk sign-in; a roster file checked whole (every bad row listed, nothing
// written), then imported with progress (a CSV in batches from here, an .xlsx whole on the
// server) and the initial-password SMS followed as jobs; a person's look-up; terminals listed and
// revoked; and the clerk's single-person calls.
import { request, say, sayError } from "/common/api.js";

const $ = (id) => document.getElementById(id);
const HEADER = ["id_number", "name", "phone", "region", "insurance_type", "person_type", "face_template"];
const BATCH_ROWS = 200; // rows per import call: small enough for a smooth bar, large enough to be quick
let token = sessionStorage.getItem("admin_token");

async function api(method, path, body) {
  try {
    return await request(method, `/api/v1/admin${path}`, body, token);
  } catch (e) {
    if (e.status === 401 && path !== "/login") signOut();
    throw e;
  }
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

/** Follow the initial-password jobs until every one is done (GET /jobs/<id>), moving the bar. */
async function followJobs(jobIds) {
  const seen = new Map();
  for (;;) {
    for (const id of jobIds) {
      if (seen.get(id)?.state === "done" || seen.get(id)?.state === "failed") continue;
      seen.set(id, await api("GET", `/jobs/${encodeURIComponent(id)}`));
    }
    const all = [...seen.values()];
    const done = all.reduce((n, j) => n + j.done, 0);
    const total = all.reduce((n, j) => n + j.total, 0);
    setBar("sms-progress", done, total);
    if (all.every((j) => j.state === "done" || j.state === "failed")) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** An .xlsx goes to the server whole: it reads the workbook, checks every row, and imports it
 * when clean (all or nothing). */
async function uploadWorkbook(file) {
  say("正在检查整个文件…", true);
  const answer = await api("POST", "/insured/xlsx", { file_base64: toBase64(await file.arrayBuffer()) });
  if (!answer.imported) {
    listProblems(answer.problems.map((p) => ({ row: p.index + 2, field: p.field, reason: p.reason })));
    return say(`${answer.invalid_count} 行有问题，未导入任何数据；请修改后重新上传`);
  }
  $("progress").hidden = false;
  setBar("import-progress", answer.count, answer.count);
  setBar("sms-progress", 0, 0);
  if (answer.job_id) await followJobs([answer.job_id]);
  say(`导入完成：新增 ${answer.created} 人，更新 ${answer.updated} 人，未变 ${answer.unchanged ?? 0} 人`, true);
}

$("roster-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("roster-file").files[0];
  if (!file) return;
  $("progress").hidden = true;
  listProblems([]);
  try {
    if (/\.xlsx$/i.test(file.name)) return await uploadWorkbook(file);
    if (!/\.csv$/i.test(file.name)) {
      listProblems([{ row: 1, field: "-", reason: "请上传 CSV（UTF-8）或 Excel（.xlsx）文件" }]);
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
    // Clean: import in batches, each all-or-nothing on the server; the initial passwords go out
    // as background jobs, followed by their own bar.
    $("progress").hidden = false;
    setBar("import-progress", 0, persons.length);
    setBar("sms-progress", 0, 0);
    let done = 0;
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    const jobs = [];
    for (let i = 0; i < persons.length; i += BATCH_ROWS) {
      const batch = persons.slice(i, i + BATCH_ROWS);
      const answer = await api("POST", "/insured", { persons: batch });
      created += answer.created;
      updated += answer.updated;
      unchanged += answer.unchanged ?? 0;
      if (answer.job_id) jobs.push(answer.job_id);
      done += batch.length;
      setBar("import-progress", done, persons.length);
    }
    if (jobs.length) await followJobs(jobs);
    say(`导入完成：新增 ${created} 人，更新 ${updated} 人，未变 ${unchanged} 人`, true);
  } catch (e) {
    sayError(e);
  }
});

// --- look-up of one person, masked -------------------------------------------------------------
const CREDENTIAL = { active: "已激活", revoked: "已注销", not_activated: "未激活" };
const PASSWORD = { set: "已设置", pending: "发送中", none: "未设置（无手机号）" };
const CARD = { active: "正常", lost: "已挂失", replaced: "已换卡" };

$("lookup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const p = await api("GET", `/insured/${encodeURIComponent($("lookup-id").value.trim().toUpperCase())}`);
    const lines = [
      ["身份证号", p.id_number_masked],
      ["姓名", p.name_masked],
      ["手机号", p.phone_masked ?? "无"],
      ["电子凭证", CREDENTIAL[p.credential_status] ?? p.credential_status],
      ["支付密码", PASSWORD[p.password_status] ?? p.password_status],
      ["密码锁定", p.password_locked_until ? `锁定至 ${new Date(p.password_locked_until).toLocaleString("zh-CN")}` : "未锁定"],
      ["社保卡", p.cards.length ? p.cards.map((c) => `${c.card_no}（${CARD[c.status] ?? c.status}）`).join("，") : "无"],
    ];
    $("lookup-result").replaceChildren(
      ...lines.flatMap(([k, v]) => {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        dd.textContent = v;
        return [dt, dd];
      }),
    );
    $("lookup-result").hidden = false;
    say("已查询", true);
  } catch (e) {
    $("lookup-result").hidden = true;
    sayError(e);
  }
});

// --- terminals: list and revoke ----------------------------------------------------------------
async function listTerminals() {
  const code = $("terminals-inst").value.trim();
  const answer = await api("GET", `/terminals${code ? `?institution_code=${encodeURIComponent(code)}` : ""}`);
  $("terminal-rows").replaceChildren(
    ...answer.terminals.map((t) => {
      const tr = document.createElement("tr");
      for (const text of [t.terminal_id, `${t.institution_code} ${t.institution_name}`, t.revoked_at ? "已撤销" : "在用"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement("td");
      if (!t.revoked_at) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "撤销";
        button.setAttribute("aria-label", `撤销终端 ${t.terminal_id}`);
        button.addEventListener("click", async () => {
          if (!confirm(`撤销终端 ${t.terminal_id}？撤销后该终端的密钥和已登录状态立即失效。`)) return;
          try {
            await api("POST", `/terminals/${encodeURIComponent(t.terminal_id)}/revoke`);
            say(`终端 ${t.terminal_id} 已撤销`, true);
            await listTerminals();
          } catch (e) {
            sayError(e);
          }
        });
        td.append(button);
      }
      tr.append(td);
      return tr;
    }),
  );
  $("terminals").hidden = false;
}

$("terminals-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await listTerminals();
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
