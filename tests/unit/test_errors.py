"""The contract's error codes and the code's AppError classes match, both ways."""

import re
from pathlib import Path

from server.errors import NON_CONTRACT_CODES, all_error_classes

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def contract_codes() -> set[str]:
    text = CONTRACT.read_text()
    codes = set()
    for section in re.findall(
        r"(?:Error codes that callers rely on|More error codes:)(.*?)(?:\n## |\Z)", text, flags=re.S
    ):
        codes |= set(re.findall(r"`([A-Z][A-Z_]+[A-Z])`", section))
    return codes - {"EC1"}


def test_every_contract_code_has_an_error_class():
    ours = {cls.code for cls in all_error_classes()}
    assert contract_codes() - ours == set()


def test_every_error_class_is_a_contract_code_or_a_documented_exception():
    ours = {cls.code for cls in all_error_classes()}
    assert ours - contract_codes() == set(NON_CONTRACT_CODES)


def test_the_contract_list_was_read():
    assert {
        "QR_ALREADY_USED",
        "SERVICE_UNAVAILABLE",
        "TOKEN_REVOKED",
        "VALIDATION_ERROR",
    } <= contract_codes()


def test_client_errors_are_4xx_and_only_faults_are_5xx():
    for cls in all_error_classes():
        if cls.code in {"INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "OUTCOME_UNKNOWN"}:
            assert cls.status >= 500
        else:
            assert 400 <= cls.status < 500, cls
