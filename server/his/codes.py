"""The interface's code tables and our error codes in Chinese.

med_type -> our scene (server/settlement/rules.py `Scene`, by value: importing it would pull in
Flask through server.errors), insutype <-> our insurance types, psn_type, mdtrt_cert_type,
acct_used_flag, psn_setlway, clr_type, stmt_rslt, and err_msg texts for every code in
server/errors.py (tests/unit/test_his_codes.py checks both against the project). Sources of
the national codes: docs/his-interface.md, "Code tables".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.his.errors import HisInputError

# --- med_type (医疗类别) ---
# The national dictionary's codes we serve, and the scene each settles as. A pharmacy purchase
# (41) is a prescription purchase when the bill carries a prescription, a self purchase otherwise
# (pharmacy_scene). Cross-region is not a med_type: it is decided by the areas (scene_for).
MED_TYPES: Mapping[str, tuple[str, str]] = {
    "11": ("普通门诊", "outpatient"),
    "12": ("门诊挂号", "registration"),
    "13": ("急诊", "outpatient"),
    "14": ("门诊慢特病", "outpatient"),
    "16": ("中医特色门诊", "outpatient"),
    "21": ("普通住院", "inpatient_discharge"),
    "22": ("外伤住院", "inpatient_discharge"),
    "23": ("转外诊治住院", "inpatient_discharge"),
    "24": ("急诊转住院", "inpatient_discharge"),
    "26": ("单病种住院", "inpatient_discharge"),
    "28": ("日间手术", "inpatient_discharge"),
    "41": ("定点药店购药", "pharmacy"),
    "51": ("生育门诊", "outpatient"),
    "52": ("生育住院", "inpatient_discharge"),
}


def scene_for(
    med_type: str | None,
    *,
    has_prescription: bool = False,
    insuplc_admdvs: str | None = None,
    mdtrtarea_admvs: str | None = None,
) -> str:
    """The scene (a `Scene` value) a med_type settles as; refuses codes we do not serve.

    Cross-region wins when both areas are known and their first four digits (the city)
    differ. Raises HisInputError naming the supported codes.
    """
    if med_type is None or med_type not in MED_TYPES:
        supported = "、".join(f"{c}{n}" for c, (n, _) in MED_TYPES.items())
        raise HisInputError("med_type", f"不支持的医疗类别 {str(med_type)[:8]}；支持：{supported}")
    if insuplc_admdvs and mdtrtarea_admvs and insuplc_admdvs[:4] != mdtrtarea_admvs[:4]:
        return "cross_region"
    scene = MED_TYPES[med_type][1]
    if scene == "pharmacy":
        return pharmacy_scene(has_prescription=has_prescription)
    return scene


def pharmacy_scene(*, has_prescription: bool) -> str:
    """A pharmacy purchase: with a prescription (rxno on a fee line) or a self purchase."""
    return "pharmacy_prescription" if has_prescription else "pharmacy_self_purchase"


# --- insutype (险种类型) and our insurance types ---
INSUTYPES: Mapping[str, str] = {
    "310": "职工基本医疗保险",
    "320": "公务员医疗补助",
    "330": "大额医疗费用补助",
    "340": "离休人员医疗保障",
    "350": "一至六级残废军人医疗补助",
    "360": "老红军医疗保障",
    "380": "新型农村合作医疗",
    "390": "城乡居民基本医疗保险",
    "391": "城镇居民基本医疗保险",
    "392": "城乡居民大病医疗保险",
    "510": "生育保险",
}
# Our roster's types (server/roster/rules.py INSURANCE_TYPES): employees and retirees are in the
# employee scheme (310), residents in the resident scheme (390). Only these two are served.
INSUTYPE_OF_INSURANCE_TYPE: Mapping[str, str] = {
    "employee": "310",
    "retiree": "310",
    "resident": "390",
}
SERVED_INSUTYPES = frozenset(INSUTYPE_OF_INSURANCE_TYPE.values())


def insutype_for(insurance_type: str) -> str:
    """The insutype of one of our insurance types; an unknown type is a bug (ValueError)."""
    try:
        return INSUTYPE_OF_INSURANCE_TYPE[insurance_type]
    except KeyError:
        raise ValueError(f"unknown insurance type {insurance_type!r}") from None


def check_insutype(insutype: str | None, *, required: bool = False) -> str | None:
    """An insutype from a request: one we serve, or None when absent and not required."""
    if insutype is None:
        if required:
            raise HisInputError("insutype", "缺少险种类型")
        return None
    if insutype not in SERVED_INSUTYPES:
        name = INSUTYPES.get(insutype, "未知险种")
        raise HisInputError(
            "insutype", f"不受理的险种类型 {insutype[:6]}（{name}）；受理：310、390"
        )
    return insutype


# --- psn_type (人员类别) ---
# 1101 is confirmed by real settlement answers; 1201 and 1401 follow the dictionary's pattern
# and must be checked against the province's dictionary before going live (docs).
PSN_TYPE_OF_INSURANCE_TYPE: Mapping[str, tuple[str, str]] = {
    "employee": ("1101", "在职"),
    "retiree": ("1201", "退休"),
    "resident": ("1401", "城乡居民"),
}

# --- mdtrt_cert_type (就诊凭证类型) ---
MDTRT_CERT_TYPES: Mapping[str, str] = {
    "01": "医保电子凭证令牌",
    "02": "居民身份证号",
    "03": "社会保障卡卡号",
}
ECREDENTIAL_CERT_TYPE = "01"


def check_ecredential_cert(mdtrt_cert_type: str | None) -> None:
    """Only the e-credential is served: mdtrt_cert_type 01 with the ecToken as mdtrt_cert_no."""
    if mdtrt_cert_type != ECREDENTIAL_CERT_TYPE:
        name = MDTRT_CERT_TYPES.get(mdtrt_cert_type or "", "未知凭证")
        raise HisInputError(
            "mdtrt_cert_type",
            f"本系统只受理医保电子凭证（01），收到 {str(mdtrt_cert_type)[:4]}（{name}）",
        )


# --- acct_used_flag (个人账户使用标志) ---
@dataclass(frozen=True)
class AccountUse:
    """Which accounts may pay the personal burden; server/hospital/bill.py hands it to
    settlement (its `AccountUse`: ALL, OWN_ONLY, NONE), where what they do not pay is cash."""

    uses_own_account: bool
    uses_mutual_aid: bool


ACCT_USED_FLAGS: Mapping[str, tuple[str, AccountUse]] = {
    "0": ("不使用个人账户", AccountUse(uses_own_account=False, uses_mutual_aid=False)),
    "1": ("使用本人个人账户", AccountUse(uses_own_account=True, uses_mutual_aid=False)),
    "2": ("先本人账户，再家庭共济账户", AccountUse(uses_own_account=True, uses_mutual_aid=True)),
}


def account_use(flag: str | None) -> AccountUse:
    """acct_used_flag as what may pay; absent means 0. "01" (seen in clients) is read as 1."""
    key = (flag or "0").lstrip("0") or "0"
    if key not in ACCT_USED_FLAGS:
        raise HisInputError("acct_used_flag", f"个人账户使用标志应为0、1或2，收到 {str(flag)[:4]}")
    return ACCT_USED_FLAGS[key][1]


# --- psn_setlway, clr_type, stmt_rslt ---
PSN_SETLWAYS: Mapping[str, str] = {"01": "按项目结算", "02": "按定额结算"}
CLR_TYPES: Mapping[str, str] = {"11": "门诊", "21": "住院", "41": "药店购药"}
STMT_BALANCED = "0"
STMT_UNBALANCED = "1"


def check_code(table: Mapping[str, str], value: str | None, field: str) -> str:
    """A value from one of the small tables above; refuses what is not in it."""
    if value is None or value not in table:
        allowed = "、".join(f"{k}{v}" for k, v in table.items())
        raise HisInputError(field, f"取值 {str(value)[:8]} 无效；应为：{allowed}")
    return value


# --- our error codes in Chinese ---
ERROR_MESSAGES_ZH: Mapping[str, str] = {
    "INTERNAL_ERROR": "系统内部错误，请稍后重试",
    "VALIDATION_ERROR": "请求数据不合法",
    "UNAUTHORIZED": "未签到或签到已失效，请先调用9001签到",
    "TOKEN_REVOKED": "签到凭据已作废，请重新签到",
    "FORBIDDEN": "本机构无权办理此交易",
    "NOT_FOUND": "记录不存在",
    "METHOD_NOT_ALLOWED": "不支持的请求方法",
    "PAYLOAD_TOO_LARGE": "报文过大",
    "URI_TOO_LONG": "请求地址过长",
    "HEADERS_TOO_LARGE": "请求头过多或过大",
    "RATE_LIMITED": "请求过于频繁，请稍后再试",
    "SERVICE_UNAVAILABLE": "依赖的服务暂不可用，本次未做任何处理，请重试",
    "OUTCOME_UNKNOWN": "结算结果未知，请用相同的报文ID重发以取得实际结果，切勿另收现金",
    "INSURED_NUMBER_NOT_FOUND": "参保人员不存在",
    "FACE_MISMATCH": "人脸比对不一致",
    "CONSENT_REQUIRED": "参保人尚未同意授权",
    "ALREADY_ACTIVATED": "医保电子凭证已激活",
    "NOT_ACTIVATED": "医保电子凭证未激活",
    "SMS_CODE_INVALID": "短信验证码错误或已过期",
    "PAYMENT_PASSWORD_INVALID": "支付密码错误",
    "PASSWORD_LOCKED": "支付密码错误次数过多，已锁定24小时",
    "PASSWORD_REQUIRED": "本次支付需要参保人输入支付密码",
    "WEAK_PASSWORD": "支付密码过于简单",
    "QR_MALFORMED": "无法识别的医保电子凭证二维码",
    "QR_UNSUPPORTED_VERSION": "不支持的医保电子凭证二维码版本",
    "QR_SIGNATURE_INVALID": "医保电子凭证二维码签名无效",
    "QR_EXPIRED": "医保电子凭证已过期，请参保人刷新二维码",
    "QR_NOT_YET_VALID": "医保电子凭证尚未生效，请核对设备时间",
    "QR_ALREADY_USED": "医保电子凭证二维码已使用，请参保人刷新二维码",
    "CREDENTIAL_REVOKED": "医保电子凭证已停用",
    "KIT_EXPIRED": "离线凭证已过期，请参保人联网刷新",
    "SCAN_TOKEN_INVALID": "电子凭证令牌无效、已过期或已使用，请重新扫码",
    "CARD_REPORTED_LOST": "社会保障卡已挂失",
    "INVALID_AMOUNT": "金额不合法",
    "ORDER_NO_CONFLICT": "报文ID已用于另一笔不同的请求",
    "ALREADY_REFUNDED": "该结算已撤销",
    "INSUFFICIENT_BALANCE": "个人账户余额不足",
    "FAMILY_LIMIT_REACHED": "家庭成员已达上限",
    "RELATION_NOT_ALLOWED": "不允许的亲属关系",
    "ALREADY_BOUND": "已绑定该家庭成员",
    "ALREADY_FILED": "已备案该人员",
    "ALREADY_EXISTS": "该机构编码已存在",
}
ERR_MSG_MAX = 200  # err_msg is 200 characters in the spec


def err_msg(code: str, detail_zh: str | None = None) -> str:
    """`[QR_EXPIRED] 医保电子凭证已过期，请参保人刷新二维码` plus `：detail`, at most 200 chars.

    An unknown code is a bug (ValueError): every refusal names a code of server/errors.py.
    """
    if code not in ERROR_MESSAGES_ZH:
        raise ValueError(f"unknown error code {code!r}")
    text = f"[{code}] {ERROR_MESSAGES_ZH[code]}"
    if detail_zh:
        text += f"：{detail_zh}"
    return text if len(text) <= ERR_MSG_MAX else text[: ERR_MSG_MAX - 1] + "…"


# Refusals worth answering again to a re-sent msgid; a transient fault is not recorded, so that
# the re-send is tried afresh (server/his/idempotency.py).
# Not recorded against the msgid: a re-send is tried again (OUTCOME_UNKNOWN's re-send then
# learns the real outcome through the settlement's own idempotency).
TRANSIENT_CODES = frozenset(
    {"INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "RATE_LIMITED", "OUTCOME_UNKNOWN"}
)
