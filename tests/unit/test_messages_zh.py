"""A Chinese caller reads every refusal in Chinese: each raise site's own English message has its
Chinese text in server/messages_zh.py, and English callers keep the English text exactly.

The raise sites are found by walking the source of server/ and mobile_api/ (every construction
of an AppError with a literal or f-string message, the PL/pgSQL hints, and the HIS interface's
own Chinese reasons), so a new refusal without Chinese wording fails here rather than reaching a
cashier.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from server.benefits.policy_model import InsuranceType, Level, NoRuleError, PersonType
from server.errors import AppError, all_error_classes
from server.his.codes import ERROR_MESSAGES_ZH, err_msg
from server.messages import CATALOGUE, localize
from server.messages_zh import ALLOWED_LATIN, EXACT, chinese
from server.mutual_aid.rules import reorder_problem
from server.settlement.rules import Scene

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
CLASSES = {cls.__name__: cls for cls in all_error_classes()}

# Values for the parts of f-string messages that are local variables (module-level names such as
# MAX_ROWS or RELATIONS are read from the module itself): every value the code can put there.
SAMPLES: dict[str, list[Any]] = {
    "field": ["face_image", "face_template"],  # server/decoding.py's callers
    "' or '.join(roles)": ["user", "terminal", "admin", "terminal or admin"],
    "year": [2026],
    "problem": [reorder_problem(["a"], ["a", "a"]), reorder_problem(["a"], ["b"])],
    "claim.status": ["pending", "approved", "rejected"],
    "len(bad)": [3],
    "len(rows)": [120],
    "name": ["fulamt_ownpay_fen", "preselfpay_fen", "overlmt_selfpay_fen"],
    "version.effective_from": [date(2026, 1, 1)],
}


# Latin in the HIS interface's own Chinese reasons (server/his/, server/hospital/): formats and
# the values a HIS programmer must send; field names are the `field` part, outside the reason.
HIS_ALLOWED_LATIN = frozenset(
    {"JSON", "NaN", "ID", "yyyy", "MM", "dd", "ec", "query", "application", "json", "text", "plain"}
)


def latin_words(text: str) -> set[str]:
    return set(LATIN.findall(text))


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted([*SERVER.rglob("*.py"), *(ROOT / "mobile_api").rglob("*.py")]):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def part_values(module: str, part: ast.FormattedValue) -> list[str]:
    source = ast.unparse(part.value)
    if source in SAMPLES:
        values = SAMPLES[source]
    else:
        try:
            values = [eval(source, vars(importlib.import_module(module)))]  # noqa: S307
        except NameError:
            pytest.fail(f"{module}: add the values of {{{source}}} to SAMPLES")
    convert = {-1: format, ord("s"): str, ord("r"): repr, ord("a"): ascii}[part.conversion]
    spec = ast.unparse(part.format_spec)[2:-1] if part.format_spec else ""
    return [format(convert(v), spec) for v in values]


def messages(module: str, node: ast.expr) -> list[str]:
    """Every text a message expression can make (an f-string: each combination of its parts)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        pieces = [
            [str(v.value)] if isinstance(v, ast.Constant) else part_values(module, v)
            for v in node.values
            if isinstance(v, ast.Constant | ast.FormattedValue)
        ]
        return ["".join(combo) for combo in itertools.product(*pieces)]
    pytest.fail(
        f"{module}: a message that is neither a literal nor an f-string: {ast.unparse(node)}"
    )


def no_rule_errors() -> list[NoRuleError]:
    """NoRuleError's text for every key and every reason server/benefits/ gives for it."""
    whys = [
        text
        for module, tree in modules()
        if module.startswith("server.benefits")
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and called_name(call) == "NoRuleError"
        for text in messages(module, argument(call, 2, "why") or ast.Constant(""))
    ]
    assert len(whys) >= 2
    keys = itertools.product(InsuranceType, PersonType, Scene, Level)
    return [NoRuleError(key, date(2026, 1, 1), why) for key in keys for why in whys]


def raise_sites() -> list[tuple[str, int, type[AppError], str]]:
    found = []
    for module, tree in modules():
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and called_name(call) in CLASSES:
                node = argument(call, 0, "message")
                if node is not None:
                    cls = CLASSES[called_name(call) or ""]
                    for text in messages(module, node):
                        found.append((module, call.lineno, cls, text))
    return found


SAMPLES["exc"] = no_rule_errors()  # server/settlement/fund.py: f"{exc}; send fund_fen ..."
RAISE_SITES = raise_sites()
SQL_HINTS = [
    (path.name, hint)
    for path in sorted(SERVER.rglob("*.sql"))
    for hint in re.findall(r"HINT\s*=\s*'((?:[^']|'')*)'", path.read_text(encoding="utf-8"))
]


def test_the_walk_finds_the_raise_sites():
    # a sanity floor, so that a broken walk cannot pass by finding nothing
    assert len({(m, line) for m, line, _, _ in RAISE_SITES}) > 80
    assert any(cls.__name__ == "UnauthorizedError" for _, _, cls, _ in RAISE_SITES)  # JWT loaders
    assert len(SQL_HINTS) >= 3


@pytest.mark.parametrize(
    ("module", "line", "cls", "english"),
    RAISE_SITES,
    ids=[f"{m}:{line}:{text[:30]}" for m, line, _, text in RAISE_SITES],
)
def test_every_raise_site_reads_in_chinese_and_stays_english_for_english_callers(
    module, line, cls, english
):
    if english == cls.default_message:
        return  # the catalogue's text, checked by tests/unit/test_messages.py
    zh = localize(cls.code, english, "zh-CN", generic=cls.default_message)
    assert chinese(english) is not None, (
        f"{module}:{line}: add {english!r} to server/messages_zh.py"
    )
    assert latin_words(zh) <= ALLOWED_LATIN, f"{module}:{line}: {zh}"
    assert re.search("[\u4e00-\u9fff]", zh)
    assert localize(cls.code, english, "en", generic=cls.default_message) == english


@pytest.mark.parametrize(("sql", "hint"), SQL_HINTS)
def test_the_settlement_functions_hints_read_in_chinese(sql, hint):
    zh = chinese(hint)
    assert zh is not None, f"{sql}: add {hint!r} to server/messages_zh.py"
    assert latin_words(zh) <= ALLOWED_LATIN


def test_every_exact_entry_belongs_to_a_raise_site():
    # a stale entry would hide that its raise site's wording changed
    texts = [text for *_, text in RAISE_SITES] + [hint for _, hint in SQL_HINTS]
    assert [key for key in EXACT if not any(key in text for text in texts)] == []


def test_the_carried_parts_are_the_numbers_and_fields_of_the_english_text():
    assert chinese("57 of 120 rows are invalid; nothing was imported") == (
        "120行中有57行有误，本次未导入任何数据"
    )
    assert (
        chinese("preselfpay_fen cannot be negative") == "先行自付金额（preselfpay_fen）不能为负数"
    )
    assert chinese("This call is for the terminal or admin role") == (
        "此接口仅限定点医药机构终端或医保经办机构调用"
    )
    assert chinese("source_ids: a source appears twice") == (
        "共济来源顺序（source_ids）有误：同一共济来源出现了两次"
    )
    no_rule = NoRuleError(
        (InsuranceType.RESIDENT, PersonType.IN_SERVICE, Scene.CROSS_REGION, Level.COMMUNITY),
        date(2026, 3, 9),
        "the version from 2026-01-01 does not cover it",
    )
    assert chinese(f"{no_rule}; send fund_fen for this bill") == (
        "待遇政策中没有适用的支付规则（城乡居民医保，在职，异地就医，社区卫生服务机构，2026-03-09）："
        "自2026-01-01起施行的待遇政策版本未涵盖此情形；请为此笔费用传入基金支付金额（fund_fen）"
    )


def test_a_message_the_table_lacks_keeps_its_english_after_the_chinese_text():
    # never lost: the detail stays readable, and the walk above makes this a bug to fix
    assert chinese("Something new") is None
    assert (
        localize("NOT_FOUND", "Something new", None, generic="Not found")
        == "未找到（Something new）"
    )
    assert localize("NOT_FOUND", "Something new", "en", generic="Not found") == "Something new"


def test_the_allowed_latin_is_small_and_is_only_formats_and_contract_names():
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    snake = {word for word in ALLOWED_LATIN if "_" in word and word != "SIGNING_KEYS"}
    assert {word for word in snake if word not in contract} <= {"file_base64", "face_template"}
    assert len(ALLOWED_LATIN) < 40


def test_the_his_interface_answers_in_chinese_only():
    # err_msg is `[CODE] 中文`; an AppError's English message is never added to it
    for code, text in ERROR_MESSAGES_ZH.items():
        assert latin_words(text) <= HIS_ALLOWED_LATIN, code
        assert err_msg(code) == f"[{code}] {text}"
    assert set(ERROR_MESSAGES_ZH) >= set(CATALOGUE) - {"OUTCOME_UNKNOWN"}


def his_reasons() -> list[tuple[str, int, str]]:
    found = []
    for module, tree in modules():
        if not module.startswith(("server.his", "server.hospital")):
            continue
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and called_name(call) == "HisInputError":
                node = argument(call, 1, "reason_zh")
                if isinstance(node, ast.JoinedStr):  # the parts are the request's own values
                    text = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value
                else:
                    continue  # a reason passed on from another HisInputError
                found.append((module, call.lineno, text))
    return found


def test_the_his_interfaces_own_reasons_are_chinese():
    reasons = his_reasons()
    assert len(reasons) > 40
    for module, line, text in reasons:
        assert latin_words(text) <= HIS_ALLOWED_LATIN, f"{module}:{line}: {text}"
        assert re.search("[\u4e00-\u9fff]", text), f"{module}:{line}: {text}"
