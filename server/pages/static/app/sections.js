// The family (亲情账户), mutual-aid (家庭共济) and account sections of the phone page, drawn
// when their tab opens. Money is shown in yuan with two decimals and sent as integer fen.
import { call, fen, yuan } from "./api.js";
import { RELATIONS, label } from "/common/labels.js";

const KINDS = { credit: "划入", interest: "利息", payment: "支付", refund: "退款", premium: "保费", mutual_aid_out: "共济支出", reimbursement: "报销" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

let uid = 0;
function field(label, attrs) {
  const id = `f${++uid}`;
  const control = attrs.options
    ? el("select", { id, name: attrs.name }, ...Object.entries(attrs.options).map(([v, t]) => el("option", { value: v }, t)))
    : el("input", { id, ...attrs });
  return el("div", { class: "field" }, el("label", { for: id }, label), control);
}

function status(text, ok = true) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = ok ? "ok" : "";
}

function fail(e) {
  status(`${e.message}${e.code ? `（${e.code}）` : ""}`, false);
}

function formOf(node, onSubmit) {
  const form = el("form", {}, ...node);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await onSubmit(Object.fromEntries(new FormData(form)), form);
    } catch (e) {
      fail(e);
    }
  });
  return form;
}

function photoBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",", 2)[1]);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

// --- family -----------------------------------------------------------------------------------
async function family(root) {
  const { members } = await call("GET", "/family/members");
  const year = new Date().getFullYear();
  const list = el("ul", { class: "list" });
  for (const m of members) {
    const detail = el("div");
    list.append(
      el("li", {},
        el("span", {}, `${m.name_masked}（${label(RELATIONS, m.relation)}）${m.id_number_masked}`),
        el("button", { type: "button", onclick: () => import("./main.js").then((main) => main.showCode(m.member_id, `${m.name_masked}（${label(RELATIONS, m.relation)}）`)).catch(fail) }, "出示TA的医保码"),
        el("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            const x = await call("GET", `/family/members/${m.member_id}/expenses?year=${year}`);
            detail.replaceChildren(el("p", {}, `${x.year} 年：总费用 ${yuan(x.total_fen)} 元，统筹 ${yuan(x.fund_fen)} 元，个人账户 ${yuan(x.personal_account_fen)} 元，现金 ${yuan(x.cash_fen)} 元，共 ${x.visits.length} 次就诊`));
          } catch (e) { fail(e); }
        } }, "今年费用"),
        el("button", { type: "button", class: "secondary", "aria-label": `${m.name_masked}的账户余额`, onclick: async () => {
          try {
            const b = await call("GET", `/family/members/${m.member_id}/account`);
            detail.replaceChildren(el("p", {}, `${b.name_masked}的个人账户余额：${yuan(b.balance_fen)} 元`));
          } catch (e) { fail(e); }
        } }, "账户余额"),
        el("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            await call("DELETE", `/family/members/${m.member_id}`);
            status("已解绑");
            await family(root);
          } catch (e) { fail(e); }
        } }, "解绑"),
        detail,
      ),
    );
  }
  const bind = formOf(
    [
      field("亲属身份证号", { name: "id_number", maxlength: "18", required: "" }),
      field("亲属姓名", { name: "name", required: "" }),
      field("关系", { name: "relation", options: RELATIONS }),
      field("亲属人脸照片", { name: "face", type: "file", accept: "image/*", capture: "user", required: "" }),
      el("p", { class: "hint" }, "请亲属本人拍摄人脸照片，作为本人同意绑定的凭据。"),
      el("button", { type: "submit" }, "绑定亲属"),
    ],
    async (f, form) => {
      await call("POST", "/family/members", {
        id_number: f.id_number.trim().toUpperCase(),
        name: f.name.trim(),
        relation: f.relation,
        face_image: await photoBase64(form.querySelector("input[type=file]").files[0]),
      });
      status("绑定成功");
      await family(root);
    },
  );
  root.replaceChildren(el("h2", { id: "family-h" }, "亲情账户"), members.length ? list : el("p", { class: "hint" }, "还没有绑定亲属"), el("h3", {}, "绑定亲属"), bind);
}

// --- mutual aid -------------------------------------------------------------------------------
async function aid(root) {
  const [{ beneficiaries }, { sources }] = await Promise.all([
    call("GET", "/mutual-aid/beneficiaries"),
    call("GET", "/mutual-aid/sources"),
  ]);
  const mine = el("ul", { class: "list" }, ...beneficiaries.map((b) =>
    el("li", {}, el("span", {}, `${b.name_masked}（${label(RELATIONS, b.relation)}）`),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          await call("DELETE", `/mutual-aid/beneficiaries/${b.beneficiary_id}`);
          status("已撤销");
          await aid(root);
        } catch (e) { fail(e); }
      } }, "撤销"))));
  const order = sources.map((s) => s.source_id);
  const move = async (i, d) => {
    [order[i], order[i + d]] = [order[i + d], order[i]];
    try {
      await call("PUT", "/mutual-aid/sources/order", { source_ids: order });
      status("顺序已保存");
      await aid(root);
    } catch (e) { fail(e); }
  };
  const draw = el("ol", {}, ...sources.map((s, i) =>
    el("li", {}, `${s.holder_masked}（${label(RELATIONS, s.relation)}） `,
      el("button", { type: "button", class: "secondary", disabled: i === 0 ? "" : null, onclick: () => move(i, -1) }, "上移"),
      el("button", { type: "button", class: "secondary", disabled: i === sources.length - 1 ? "" : null, onclick: () => move(i, 1) }, "下移"))));
  const file = formOf(
    [
      field("家人身份证号", { name: "id_number", maxlength: "18", required: "" }),
      field("家人姓名", { name: "name", required: "" }),
      field("关系", { name: "relation", options: { spouse: "配偶", parent: "父母", child: "子女" } }),
      el("button", { type: "submit" }, "备案共济"),
    ],
    async (f) => {
      await call("POST", "/mutual-aid/beneficiaries", { id_number: f.id_number.trim().toUpperCase(), name: f.name.trim(), relation: f.relation });
      status("已备案");
      await aid(root);
    },
  );
  root.replaceChildren(
    el("h2", { id: "aid-h" }, "家庭共济"),
    el("h3", {}, "我的账户可供家人使用"), beneficiaries.length ? mine : el("p", { class: "hint" }, "未备案"), file,
    el("h3", {}, "我可使用的家人账户（按顺序扣款）"), sources.length ? draw : el("p", { class: "hint" }, "无"),
  );
}

// --- account ----------------------------------------------------------------------------------
async function account(root) {
  const a = await call("GET", "/account");
  const rows = el("tbody");
  const more = el("button", { type: "button", class: "secondary" }, "更多");
  let cursor = null;
  const yearLine = el("p", { id: "year-so-far" });
  const expensesLine = el("p", { id: "own-expenses" });
  const page = async () => {
    const q = cursor ? `?limit=20&cursor=${cursor}` : "?limit=20";
    const t = await call("GET", `/account/transactions${q}`);
    for (const item of t.items) {
      rows.append(el("tr", {}, el("td", {}, item.at.slice(0, 10)), el("td", {}, KINDS[item.kind] || item.kind),
        el("td", { class: "money" }, `${item.direction === "out" ? "-" : "+"}${yuan(item.amount_fen)}`)));
    }
    cursor = t.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", () => page().catch(fail));
  // The year so far (年度累计) and this year's expenses come from the server, not from the
  // statement lines loaded so far.
  const yearSoFar = async () => {
    const [y, x] = await Promise.all([call("GET", "/account/year"), call("GET", "/account/expenses")]);
    const pools = y.pools.map((p) => `${p.name}统筹已付 ${yuan(p.fund_paid_fen)} 元${p.deductible_left_fen !== null ? `，起付线剩余 ${yuan(p.deductible_left_fen)} 元` : ""}`);
    yearLine.textContent = `${y.year} 年度累计：${pools.length ? pools.join("；") : "暂无"}`;
    expensesLine.textContent = `${x.year} 年医疗费用：总费用 ${yuan(x.total_fen)} 元，统筹 ${yuan(x.fund_fen)} 元，个人账户 ${yuan(x.personal_account_fen)} 元，现金 ${yuan(x.cash_fen)} 元，共 ${x.visits.length} 次就诊`;
  };
  const password = formOf(
    [
      field("原支付密码", { name: "old_password", type: "password", inputmode: "numeric", maxlength: "6", required: "" }),
      field("新支付密码", { name: "new_password", type: "password", inputmode: "numeric", maxlength: "6", required: "" }),
      el("button", { type: "submit" }, "修改支付密码"),
    ],
    async (f, form) => {
      await call("PUT", "/account/payment-password", f);
      form.reset();
      status("支付密码已修改");
    },
  );
  const limit = formOf(
    [
      field("免密额度（元）", { name: "limit", inputmode: "decimal", value: yuan(a.password_free_limit_fen), required: "" }),
      field("支付密码（确认）", { name: "payment_password", type: "password", inputmode: "numeric", maxlength: "6", required: "" }),
      el("button", { type: "submit" }, "设置免密额度"),
    ],
    async (f, form) => {
      const limitFen = fen(f.limit);
      if (limitFen === null) throw new Error("金额格式不对");
      await call("PUT", "/account/password-free-limit", { limit_fen: limitFen, payment_password: f.payment_password });
      form.querySelector("input[type=password]").value = "";
      status("免密额度已设置");
    },
  );
  root.replaceChildren(
    el("h2", { id: "account-h" }, "个人账户"),
    el("p", { class: "balance" }, "余额 ", el("strong", { id: "balance" }, `${yuan(a.balance_fen)}`), " 元"),
    el("p", { class: "hint" }, `免密额度 ${yuan(a.password_free_limit_fen)} 元${a.password_locked_until ? `；支付密码锁定至 ${a.password_locked_until}` : ""}`),
    yearLine,
    expensesLine,
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "日期"), el("th", {}, "类型"), el("th", { class: "money" }, "金额（元）"))), rows),
    more,
    el("h3", {}, "修改支付密码"), password,
    el("h3", {}, "免密支付"), limit,
  );
  await Promise.all([page(), yearSoFar()]);
}

export const sections = { family, aid, account };
