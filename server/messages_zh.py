"""The raise sites' own English messages in Chinese: one table, keyed by the exact English text.

Pure. A raise site words its refusal in English (`raise NotFoundError("No such job")`); English
callers read that text as it is, and Chinese callers (the default) read its Chinese from here
(server/messages.py `localize`). So the raise sites stay as they are, and the Chinese wording
lives in one place:

- `EXACT`: an English message -> its Chinese text.
- `TEMPLATES`: messages built with an f-string (a number, a field name, a list of codes): a
  pattern whose named parts are carried into the Chinese text. Numbers, dates and field names go
  over as they came; a code (a relation, a role, a scene) is shown by its Chinese label; a part
  that is itself a message (`source_ids: {problem}`) is translated in turn.

`chinese(message)` is the Chinese text, or None for a message the table does not know (the
caller then keeps the English detail after the code's Chinese text, so nothing is lost; the
tests walk every raise site so that this does not happen).

The Chinese texts name a field of the contract by a Chinese name and then the field itself in
full-width brackets (`总金额（total_fen）`): the person reads the Chinese, the programmer finds the
field. Latin letters in a Chinese text are only the tokens of `ALLOWED_LATIN` (field names and
values of the contract, formats such as JSON or base64, one configuration name), checked by
tests/unit/test_messages_zh.py. No text carries personal data: the parts carried over are
numbers, dates, field names and codes, as in the English text.

DOMAIN.md: none: the envelope's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

# --- labels of codes (the same words as server/pages/static/common/labels.js) ---------------
RELATIONS_ZH: Final[Mapping[str, str]] = {
    "spouse": "配偶",
    "parent": "父母",
    "child": "子女",
    "grandparent": "祖父母",
    "grandchild": "孙子女",
    "sibling": "兄弟姐妹",
}
ROLES_ZH: Final[Mapping[str, str]] = {
    "user": "参保人",
    "terminal": "定点医药机构终端",
    "admin": "医保经办机构",
}
CLAIM_STATUSES_ZH: Final[Mapping[str, str]] = {
    "pending": "待审核",
    "approved": "已批准",
    "rejected": "已驳回",
}
# The benefit policy's keys (server/benefits/policy_model.py, server/settlement/rules.py Scene).
INSURANCE_TYPES_ZH: Final[Mapping[str, str]] = {
    "employee": "职工医保",
    "resident": "城乡居民医保",
}
PERSON_TYPES_ZH: Final[Mapping[str, str]] = {"in_service": "在职", "retired": "退休"}
SCENES_ZH: Final[Mapping[str, str]] = {
    "registration": "门诊挂号",
    "outpatient": "门诊",
    "inpatient_discharge": "住院出院结算",
    "pharmacy_prescription": "药店凭处方购药",
    "pharmacy_self_purchase": "药店自行购药",
    "cross_region": "异地就医",
}
LEVELS_ZH: Final[Mapping[str, str]] = {
    "community": "社区卫生服务机构",
    "1": "一级医疗机构",
    "2": "二级医疗机构",
    "3": "三级医疗机构",
}
# Fields a template names by a variable (`f"{name} cannot be negative"`).
FIELDS_ZH: Final[Mapping[str, str]] = {
    "total_fen": "总金额",
    "fund_fen": "基金支付金额",
    "fulamt_ownpay_fen": "全自费金额",
    "preselfpay_fen": "先行自付金额",
    "overlmt_selfpay_fen": "超限价自付金额",
    "face_image": "人脸照片",
    "face_template": "登记照片",
}

# Latin tokens a Chinese text may hold (everything else is Chinese, digits or punctuation).
ALLOWED_LATIN: Final[frozenset[str]] = frozenset(
    {
        # formats and standards a person or a programmer knows by these names
        "JSON", "NUL", "ASCII", "Excel", "xlsx", "base64", "base64url", "Ed25519", "MiB",
        "YYYY", "MM",
        # the HTTP header a caller types
        "Authorization", "Bearer",
        # the deployment setting that holds the signing keys
        "SIGNING_KEYS",
        # fields and values of the contract, each after its Chinese name
        "limit_fen", "file", "file_base64", "device_public_key", "month", "annual_rate_bp",
        "source_ids", "visit_date", "deliver", "sms", "screen", "phone", "premium_fen",
        "total_fen", "fund_fen", "order_no", "fulamt_ownpay_fen", "preselfpay_fen",
        "overlmt_selfpay_fen", "face_image", "face_template",
    }
)  # fmt: skip

EXACT: Final[Mapping[str, str]] = {
    # --- sign-in, tokens, throttles ---
    "Wrong username or password": "用户名或密码错误",
    "Unknown terminal or wrong secret": "终端不存在或密钥错误",
    "Send an access token: Authorization: Bearer <token>": (
        "请先登录：请求头须携带访问令牌（Authorization: Bearer <访问令牌>）"
    ),
    "The token is not valid": "登录凭据无效，请重新登录",
    "The token has expired": "登录已过期，请重新登录",
    "Sign in again": "请重新登录",
    "This refresh token was used before; sign in again": "此刷新凭据已被使用过，请重新登录",
    "Wait a minute before asking for another code": "请一分钟后再获取验证码",
    "No more codes today": "今日获取验证码的次数已用完，请明天再试",
    "Too many wrong codes; ask for a new one": "验证码输错次数过多，请重新获取",
    "Too many attempts from here; try again later": "本设备或网络的尝试次数过多，请稍后再试",
    "Too many roster lookups today": "今日查询参保人员信息的次数过多，请明天再试",
    # --- e-credential ---
    "This e-credential is revoked; activate it again": "医保电子凭证已注销，请重新激活",
    "This person has no active e-credential": "此人没有已激活的医保电子凭证",
    "No activated e-credential stands behind this code": "此医保码对应的医保电子凭证未激活",
    "This family member is no longer bound": "该家庭成员已解除绑定",
    "Signing keys come from SIGNING_KEYS here: append a new key there and redeploy": (
        "本部署的签名密钥来自配置 SIGNING_KEYS：请在其中追加新密钥后重新部署"
    ),
    "device_public_key must be base64url": "设备公钥（device_public_key）须为base64url编码",
    "device_public_key must be a 32-byte Ed25519 key": (
        "设备公钥（device_public_key）须为32字节的Ed25519公钥"
    ),
    # --- request bodies ---
    "The body must be a JSON object": "请求内容须为JSON对象",
    "Text may not contain a NUL character": "文本中不能含有NUL字符",
    "The address may not contain a NUL character": "请求地址中不能含有NUL字符",
    # --- roster, cards, institutions (the agency) ---
    "No insured person with this ID number": "未找到该身份证号的参保人员",
    "phone must be an 11-digit mainland mobile number": "手机号（phone）须为11位中国大陆手机号码",
    "deliver is sms or screen": "发送方式（deliver）须为sms或screen",
    "A phone goes with deliver=sms": "只有短信发送（deliver=sms）时才能填写手机号（phone）",
    "The person has no phone: show the password on screen (deliver=screen) or give a phone "
    "for this reset": (
        "此人未登记手机号：请在屏幕上显示密码（deliver=screen），或为本次重置提供手机号（phone）"
    ),
    "Send the workbook in the form field `file`": "请在表单字段 file 中上传工作簿",
    "file_base64 is not base64": "file_base64 不是有效的base64编码",
    "The file must be a non-empty .xlsx up to 48 MiB": "文件须为不超过48 MiB的非空 .xlsx 文件",
    "The file is not an Excel workbook (.xlsx)": "文件不是Excel工作簿（.xlsx）",
    "The first row must name the columns": "工作簿第一行须为列名",
    "The workbook has no data rows": "工作簿中没有数据行",
    "No card with this number": "未找到该卡号的社会保障卡",
    "No institution with this code": "未找到该编码的定点医药机构",
    "No terminal with this id": "未找到该终端",
    "No such job": "未找到该任务",
    # --- money: credits, interest, limits, premiums, claims ---
    "month is YYYY-MM": "月份（month）格式须为YYYY-MM",
    "month is after the current Beijing month": "月份（month）不能晚于北京时间的本月",
    "Each credit is 1 .. 10^10-1 fen": "每笔划入金额须在1分至10^10-1分之间",
    "Some rows name no insured person; nothing was credited": (
        "部分行未找到对应的参保人员，本次未划入任何金额"
    ),
    "annual_rate_bp is 0 .. 10000": "年利率（annual_rate_bp）须在0至10000个基点之间",
    "limit_fen is 0 .. 10^10-1 fen": "免密支付额度（limit_fen）须在0分至10^10-1分之间",
    "premium_fen is 1 .. 10^10-1 fen": "保费（premium_fen）须在1分至10^10-1分之间",
    "visit_date is in the future": "就诊日期（visit_date）不能晚于今天",
    "No claim with this id": "未找到该报销申请",
    # --- settlement ---
    "Amounts are whole numbers of fen": "金额须为整数分",
    "total_fen must be more than 0": "总金额（total_fen）须大于0",
    "total_fen is too large": "总金额（total_fen）过大",
    "fund_fen cannot be negative": "基金支付金额（fund_fen）不能为负数",
    "fund_fen cannot exceed total_fen": "基金支付金额（fund_fen）不能超过总金额（total_fen）",
    "The out-of-scope parts add up to more than total_fen": (
        "全自费、先行自付与超限价自付金额之和超过了总金额（total_fen）"
    ),
    "The fund pays nothing for a pharmacy self purchase": "药店自行购药时医保基金不予支付",
    "This insured person has no personal account": "该参保人员没有个人账户",
    "No settlement with this id at this institution": "本机构没有这笔结算",
    "No settlement with this order number at this institution": "本机构没有该订单号的结算",
    "order_no is 1-64 printable ASCII characters": "订单号（order_no）须为1至64个可打印ASCII字符",
    "no version of the policy is in force that day": "当日没有施行中的待遇政策版本",
    # --- family and mutual aid ---
    "参保人员编号不存在: no insured person matches this ID number and name": (
        "参保人员编号不存在：未找到与身份证号和姓名相符的参保人员"
    ),
    "No such family member": "未找到该家庭成员",
    "You cannot bind yourself as a family member": "不能将本人绑定为家庭成员",
    "The live photo is not the family member's enrolled face": (
        "现场照片与该家庭成员的登记照片不符"
    ),
    "Only a spouse, a parent or a child may be filed for mutual aid": (
        "只能为配偶、父母或子女办理家庭共济备案"
    ),
    "You cannot file yourself": "不能为本人办理备案",
    "A spouse is already filed; withdraw that filing first": "已备案配偶，请先撤销该备案",
    "No such beneficiary": "未找到该备案人员",
    "a source appears twice": "同一共济来源出现了两次",
    "list every current source exactly once, and no other": (
        "须将当前的每个共济来源各列出一次，且不含其他来源"
    ),
    "Only for yourself, or a spouse, parent or child you have filed for mutual aid whose "
    "filing is in effect": "只能为本人，或已办理家庭共济备案且备案在有效期内的配偶、父母、子女购买",
    # --- readiness ---
    "The database is not answering": "数据库无响应",
    "The short-lived store is not answering": "缓存服务无响应",
}

Part = Callable[[str], str]


def _label(table: Mapping[str, str]) -> Part:
    """A code by its Chinese label; a code without one as it came."""
    return lambda code: table.get(code, code)


def _labels(table: Mapping[str, str], separator: str, joiner: str) -> Part:
    """A list of codes (`spouse, parent`) as a list of labels (`配偶、父母`)."""
    return lambda codes: joiner.join(table.get(c, c) for c in codes.split(separator))


def _field(name: str) -> str:
    """A field by its Chinese name and then itself: `总金额（total_fen）`."""
    return f"{FIELDS_ZH[name]}（{name}）" if name in FIELDS_ZH else name


def _message(text: str) -> str:
    """A part that is itself a message: its Chinese, or the text as it came."""
    return chinese(text) or text


@dataclass(frozen=True)
class Template:
    """An f-string message: `pattern` (matched in full) and the Chinese `zh` (str.format with
    the pattern's named parts, each passed through `parts[name]` when it has one)."""

    pattern: re.Pattern[str]
    zh: str
    parts: Mapping[str, Part] = field(default_factory=dict)

    def chinese(self, message: str) -> str | None:
        found = self.pattern.fullmatch(message)
        if found is None:
            return None
        values = {
            name: self.parts[name](value) if name in self.parts else value
            for name, value in found.groupdict().items()
        }
        return self.zh.format(**values)


def _t(pattern: str, zh: str, **parts: Part) -> Template:
    return Template(re.compile(pattern), zh, parts)


TEMPLATES: Final[tuple[Template, ...]] = (
    # server/decoding.py
    _t(r"(?P<field>\w+) must be base64", "{field}须为base64编码", field=_field),
    _t(
        r"(?P<field>\w+) must be a non-empty image up to 2 MiB",
        "{field}须为不超过2 MiB的非空图片",
        field=_field,
    ),
    # server/http.py
    _t(r"The body nests deeper than (?P<n>\d+) levels", "请求内容的嵌套超过了{n}层"),
    _t(
        r"This call is for the (?P<roles>.+) role",
        "此接口仅限{roles}调用",
        roles=_labels(ROLES_ZH, " or ", "或"),
    ),
    # server/family/service.py
    _t(
        r"A family member is one of: (?P<relations>.+)",
        "家庭成员与本人的关系须为以下之一：{relations}",
        relations=_labels(RELATIONS_ZH, ", ", "、"),
    ),
    # server/ledger/interest.py
    _t(
        r"Interest for (?P<year>\d+) is paid once the year has ended \(Beijing time\)",
        "{year}年度的利息须在该年度结束后（北京时间）计发",
    ),
    # server/mutual_aid/service.py (the problem from server/mutual_aid/rules.py)
    _t(
        r"source_ids: (?P<problem>.+)",
        "共济来源顺序（source_ids）有误：{problem}",
        problem=_message,
    ),
    # server/reimbursement/service.py
    _t(
        r"The claim is already (?P<status>\w+)",
        "该报销申请的状态已是“{status}”",
        status=_label(CLAIM_STATUSES_ZH),
    ),
    # server/roster/service.py, server/roster/spreadsheet.py
    _t(r"Send 1 to (?P<n>\d+) persons per call", "每次须提交1至{n}人"),
    _t(r"Send 1 to (?P<n>\d+) persons per file", "每个文件须包含1至{n}人"),
    _t(
        r"(?P<bad>\d+) of (?P<rows>\d+) rows are invalid; nothing was imported",
        "{rows}行中有{bad}行有误，本次未导入任何数据",
    ),
    # server/settlement/fund.py (NoRuleError's text from server/benefits/policy_model.py)
    _t(r"(?P<field>\w+) cannot be negative", "{field}不能为负数", field=_field),
    _t(
        r"(?P<why>.+); send fund_fen for this bill",
        "{why}；请为此笔费用传入基金支付金额（fund_fen）",
        why=_message,
    ),
    _t(
        r"no benefit rule for (?P<insurance_type>\w+)/(?P<person_type>\w+)/(?P<scene>\w+)/"
        r"level (?P<level>\w+) on (?P<on>[0-9-]+): (?P<why>.+)",
        "待遇政策中没有适用的支付规则（{insurance_type}，{person_type}，{scene}，{level}，{on}）："
        "{why}",
        insurance_type=_label(INSURANCE_TYPES_ZH),
        person_type=_label(PERSON_TYPES_ZH),
        scene=_label(SCENES_ZH),
        level=_label(LEVELS_ZH),
        why=_message,
    ),
    _t(
        r"the version from (?P<date>[0-9-]+) does not cover it",
        "自{date}起施行的待遇政策版本未涵盖此情形",
    ),
)


def chinese(message: str) -> str | None:
    """The Chinese text of a raise site's English message, or None when the table lacks it."""
    exact = EXACT.get(message)
    if exact is not None:
        return exact
    for template in TEMPLATES:
        text = template.chinese(message)
        if text is not None:
            return text
    return None
