"""Error messages for people, in Chinese (the default) and English: one text pair per error code.

Pure: a catalogue and the choice of language. Codes and details never change with the language;
only `message` does (CONTRACT.md, additions of 2026-11-30). When the raise site gave its own
wording (it says more than the generic text: which row, which field, what to do instead),
English callers read it as it is and Chinese callers read its Chinese from server/messages_zh.py;
otherwise both read the catalogue's text for the code.

DOMAIN.md: none: the envelope's wording.
"""

from __future__ import annotations

from typing import Final, Literal

from server.messages_zh import chinese

Language = Literal["zh", "en"]

CATALOGUE: Final[dict[str, dict[Language, str]]] = {
    "INTERNAL_ERROR": {"zh": "服务器内部错误", "en": "Internal error"},
    "VALIDATION_ERROR": {"zh": "请求内容不正确", "en": "The request is not valid"},
    "UNAUTHORIZED": {"zh": "请先登录", "en": "Sign in first"},
    "TOKEN_REVOKED": {"zh": "登录凭据已失效，请重新登录", "en": "This token has been revoked"},
    "FORBIDDEN": {"zh": "当前角色无权进行此操作", "en": "This role may not do that"},
    "NOT_FOUND": {"zh": "未找到", "en": "Not found"},
    "METHOD_NOT_ALLOWED": {"zh": "不支持此请求方法", "en": "Method not allowed here"},
    "PAYLOAD_TOO_LARGE": {"zh": "请求内容过大", "en": "The request body is too large"},
    "URI_TOO_LONG": {"zh": "请求地址过长", "en": "The request line is too long"},
    "HEADERS_TOO_LARGE": {"zh": "请求头过多或过大", "en": "Too many or too large headers"},
    "RATE_LIMITED": {"zh": "请求过于频繁，请稍后再试", "en": "Too many requests; try again later"},
    "SERVICE_UNAVAILABLE": {
        "zh": "所需服务暂不可用，本次未做任何处理，请重试",
        "en": "A service this request needs is down; nothing was done, please retry",
    },
    "OUTCOME_UNKNOWN": {
        "zh": "无法确认交易是否完成，请用同一订单号重新提交以查询结果",
        "en": "The outcome is unknown; repeat the same order number to learn it",
    },
    "INSURED_NUMBER_NOT_FOUND": {
        "zh": "参保人员编号不存在：未找到与身份证号、姓名、地区和手机号相符的参保人。"
        "请联系单位或医保经办机构补录或更正手机号，次日再试。",
        "en": "No insured person matches this ID number, name, region and phone. Ask your "
        "employer or the social-insurance agency to add or fix your phone number, then try "
        "again the day after it is fixed.",
    },
    "FACE_MISMATCH": {
        "zh": "人脸与登记照片不符",
        "en": "The face does not match the enrolled one",
    },
    "CONSENT_REQUIRED": {"zh": "激活前须同意授权", "en": "Consent is required to activate"},
    "ALREADY_ACTIVATED": {"zh": "医保电子凭证已激活", "en": "The e-credential is already active"},
    "NOT_ACTIVATED": {"zh": "请先激活医保电子凭证", "en": "Activate the e-credential first"},
    "SMS_CODE_INVALID": {"zh": "验证码错误或已过期", "en": "The SMS code is wrong or expired"},
    "PAYMENT_PASSWORD_INVALID": {"zh": "支付密码错误", "en": "Wrong payment password"},
    "PASSWORD_LOCKED": {
        "zh": "今日支付密码错误次数过多，已锁定24小时",
        "en": "Too many wrong payment passwords today; locked for 24 hours",
    },
    "PASSWORD_REQUIRED": {
        "zh": "此笔支付需要输入支付密码",
        "en": "This payment needs the password",
    },
    "WEAK_PASSWORD": {"zh": "密码过于简单，容易被猜到", "en": "This password is too easy to guess"},
    "QR_MALFORMED": {"zh": "无法识别的医保码", "en": "This is not a readable e-credential code"},
    "QR_UNSUPPORTED_VERSION": {"zh": "不支持的医保码版本", "en": "Unsupported code version"},
    "QR_SIGNATURE_INVALID": {"zh": "医保码签名无效", "en": "The code's signature is invalid"},
    "QR_EXPIRED": {"zh": "医保码已过期，请刷新", "en": "The code has expired; refresh it"},
    "QR_NOT_YET_VALID": {"zh": "医保码尚未生效", "en": "The code is not valid yet"},
    "QR_ALREADY_USED": {"zh": "医保码已被使用", "en": "This code has already been used"},
    "CREDENTIAL_REVOKED": {"zh": "医保电子凭证已注销", "en": "This e-credential is revoked"},
    "KIT_EXPIRED": {"zh": "离线码材料已过期", "en": "The offline kit has expired"},
    "SCAN_TOKEN_INVALID": {"zh": "请重新扫码", "en": "Scan the code again"},
    "CARD_REPORTED_LOST": {"zh": "此社保卡已挂失", "en": "This card is reported lost"},
    "INVALID_AMOUNT": {"zh": "金额不正确", "en": "The amounts are not valid"},
    "ORDER_NO_CONFLICT": {
        "zh": "该订单号已用于内容不同的结算",
        "en": "This order number was already used with a different body",
    },
    "ALREADY_REFUNDED": {"zh": "此笔结算已退款", "en": "This settlement is already refunded"},
    "INSUFFICIENT_BALANCE": {"zh": "账户余额不足", "en": "The account cannot cover this"},
    "FAMILY_LIMIT_REACHED": {"zh": "最多绑定5位家庭成员", "en": "At most 5 family members"},
    "RELATION_NOT_ALLOWED": {"zh": "不允许此亲属关系", "en": "This relation is not allowed"},
    "ALREADY_BOUND": {"zh": "已绑定该家庭成员", "en": "You have already bound this member"},
    "ALREADY_FILED": {"zh": "已备案此人", "en": "You have already filed this person"},
    "ALREADY_EXISTS": {"zh": "该编码已存在", "en": "One with this code exists already"},
}


def language(accept_language: str | None) -> Language:
    """English when the caller prefers en over zh (by q, then by order); Chinese otherwise."""
    best: tuple[float, Language] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, "zh" if primary == "zh" else "en")
    return "zh" if best is None else best[1]


def localize(
    code: str, message: str | None, accept_language: str | None, *, generic: str | None = None
) -> str:
    """The message for `code` in the caller's language.

    `message` is the raise site's English text and `generic` its class's default text: a
    message other than the default says more, so English keeps it and Chinese reads its
    translation. A message the Chinese table lacks (a bug tests/unit/test_messages_zh.py
    catches) is kept in brackets after the code's Chinese text, so that no detail is lost. A
    code missing from the catalogue (a bug the tests catch) keeps its message.
    """
    texts = CATALOGUE.get(code)
    if texts is None:
        return message or code
    detail = message if message and message != generic else None
    if language(accept_language) == "en":
        return detail or texts["en"]
    if detail is None:
        return texts["zh"]
    return chinese(detail) or f"{texts['zh']}（{detail}）"
