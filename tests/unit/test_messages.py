"""Every error code has a Chinese and an English text; the caller's language picks one."""

import pytest

from server.errors import all_error_classes
from server.messages import CATALOGUE, language, localize


def test_every_error_class_has_both_texts():
    codes = {cls.code for cls in all_error_classes()}
    assert codes - set(CATALOGUE) == set()
    for code in codes:
        assert CATALOGUE[code]["zh"].strip() and CATALOGUE[code]["en"].strip()


def test_every_catalogue_entry_is_an_error_code_or_a_contract_code_yet_to_come():
    codes = {cls.code for cls in all_error_classes()}
    assert set(CATALOGUE) - codes <= {"OUTCOME_UNKNOWN"}


def test_chinese_texts_are_chinese_and_english_texts_are_not():
    for texts in CATALOGUE.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in texts["zh"])
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in texts["en"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5,zh;q=0.8", "zh"),
        ("fr,en;q=0.5", "en"),
        ("fr", "zh"),
        ("en;q=0", "zh"),
    ],
)
def test_language_follows_the_callers_preference(header, expected):
    assert language(header) == expected


def test_english_keeps_the_raise_sites_own_words_and_chinese_reads_them_in_chinese():
    generic = "Not found"
    assert localize("NOT_FOUND", "No institution with this code", "en", generic=generic) == (
        "No institution with this code"
    )
    assert localize("NOT_FOUND", generic, "en", generic=generic) == CATALOGUE["NOT_FOUND"]["en"]
    assert localize("NOT_FOUND", "No institution with this code", None, generic=generic) == (
        "未找到该编码的定点医药机构"
    )
    assert localize("NOT_FOUND", generic, None, generic=generic) == "未找到"
