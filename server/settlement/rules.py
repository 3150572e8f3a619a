"""Settlement rules: valid amounts, the burden split, the payment order, when a password is needed.

Pure: no Flask, no SQLAlchemy. DOMAIN.md, "The personal account and who pays what" and
"When a password is needed". Every amount is an integer number of fen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from server.errors import InvalidAmountError
from server.ledger.rules import Kind
from server.money import MAX_AMOUNT_FEN, is_integer_fen


class Scene(StrEnum):
    REGISTRATION = "registration"
    OUTPATIENT = "outpatient"
    INPATIENT_DISCHARGE = "inpatient_discharge"
    PHARMACY_PRESCRIPTION = "pharmacy_prescription"
    PHARMACY_SELF_PURCHASE = "pharmacy_self_purchase"
    CROSS_REGION = "cross_region"


class Medium(StrEnum):
    ECREDENTIAL = "ecredential"
    CARD = "card"


# Scenes the fund does not pay for: only the personal account and cash (002, 003).
SCENES_WITHOUT_FUND_SHARE = frozenset({Scene.PHARMACY_SELF_PURCHASE})


@dataclass(frozen=True)
class BurdenSplit:
    """A bill split into the fund's share and the personal burden (个人支付)."""

    total_fen: int
    fund_fen: int
    personal_burden_fen: int


def check_total(total_fen: int) -> None:
    """A bill's total can be true: a whole number of fen, 0 < total < 10^10. Checked before its
    parts (a negative total is refused as such, not as parts exceeding it)."""
    if not is_integer_fen(total_fen):
        raise InvalidAmountError("Amounts are whole numbers of fen", reason="not_integer")
    if total_fen <= 0:
        raise InvalidAmountError("total_fen must be more than 0", reason="total_not_positive")
    if total_fen >= MAX_AMOUNT_FEN:
        raise InvalidAmountError("total_fen is too large", reason="too_large")


def split_burden(*, scene: Scene, total_fen: int, fund_fen: int) -> BurdenSplit:
    """Check a bill's amounts and split it: personal burden = total - fund.

    The fund's share comes from the insurance decomposition (医保分解) the institution ran;
    this only checks it can be true: 0 < total < 10^10, 0 <= fund <= total, and no fund share
    for a pharmacy self purchase. A zero bill is refused too: there is nothing to settle, and
    a scanner sending one is misbehaving. Raises InvalidAmountError with a `reason`.
    """
    check_total(total_fen)
    if not is_integer_fen(fund_fen):
        raise InvalidAmountError("Amounts are whole numbers of fen", reason="not_integer")
    if fund_fen < 0:
        raise InvalidAmountError("fund_fen cannot be negative", reason="fund_negative")
    if fund_fen > total_fen:
        raise InvalidAmountError("fund_fen cannot exceed total_fen", reason="fund_exceeds_total")
    if scene in SCENES_WITHOUT_FUND_SHARE and fund_fen != 0:
        raise InvalidAmountError(
            "The fund pays nothing for a pharmacy self purchase", reason="no_fund_share_for_scene"
        )
    return BurdenSplit(
        total_fen=total_fen, fund_fen=fund_fen, personal_burden_fen=total_fen - fund_fen
    )


# --- who pays the personal burden --------------------------------------------------------------
class AccountUse(StrEnum):
    """Which accounts may pay the personal burden (the HIS's acct_used_flag 2 / 1 / 0).

    The fund's share is computed on the whole bill whatever this says; only who pays the burden
    changes: ALL the own account, then the mutual-aid sources, then cash (the till always);
    OWN_ONLY the own account, then cash; NONE all of it in cash (the patient chose to pay cash).
    """

    ALL = "all"
    OWN_ONLY = "own_only"
    NONE = "none"


@dataclass(frozen=True)
class Source:
    """An account that may pay part of a burden, with what it holds now."""

    account_id: int
    available_fen: int


@dataclass(frozen=True)
class Leg:
    """One account's part of a payment."""

    account_id: int
    amount_fen: int


@dataclass(frozen=True)
class PaymentPlan:
    legs: tuple[Leg, ...]
    cash_fen: int

    @property
    def accounts_fen(self) -> int:
        return sum(leg.amount_fen for leg in self.legs)


def plan_payment(
    *,
    burden_fen: int,
    own: Source,
    mutual_aid: Sequence[Source] = (),
    accounts: AccountUse = AccountUse.ALL,
) -> PaymentPlan:
    """Who pays the personal burden: own account, then mutual-aid sources in order, then cash.

    Each account pays as much as it holds, up to what is still missing (DOMAIN.md: "first from
    the patient's own personal account, then from mutual-aid accounts in the filed order; what
    is still missing is paid in cash"). Accounts that pay nothing get no leg. `accounts` leaves
    some out: OWN_ONLY the mutual-aid sources, NONE every account (all cash).
    """
    if not is_integer_fen(burden_fen) or burden_fen < 0:
        raise ValueError("burden_fen must be a non-negative integer")
    sources = [own, *mutual_aid]
    ids = [s.account_id for s in sources]
    if len(set(ids)) != len(ids):
        raise ValueError("an account appears twice among the sources")
    allowed = {AccountUse.ALL: len(sources), AccountUse.OWN_ONLY: 1, AccountUse.NONE: 0}
    missing = burden_fen
    legs: list[Leg] = []
    for source in sources[: allowed[accounts]]:
        if missing == 0:
            break
        if source.available_fen < 0:
            raise ValueError("an account cannot hold a negative balance")
        amount = min(missing, source.available_fen)
        if amount > 0:
            legs.append(Leg(account_id=source.account_id, amount_fen=amount))
            missing -= amount
    return PaymentPlan(legs=tuple(legs), cash_fen=missing)


# --- the settlement's journal lines -----------------------------------------------------------
# The entry kind of a family member's account paying someone else's bill (the statement shows it).
MUTUAL_AID_OUT = "mutual_aid_out"


@dataclass(frozen=True)
class BookLine:
    """One journal entry of a settlement: a personal or a system account, signed, and its kind."""

    is_personal: bool
    account_id: int
    amount_fen: int
    entry_kind: str


def settlement_lines(
    *,
    plan: PaymentPlan,
    own_account_id: int,
    split: BurdenSplit,
    fund_account_id: int,
    external_account_id: int,
    institution_account_id: int,
) -> list[BookLine]:
    """The journal lines of a settlement; they sum to zero.

    Each paying account gives its leg (the patient's own as a payment, a family member's as
    mutual aid), the fund its share, the outside world the cash, and the institution receives
    the whole bill.
    """
    payment = Kind.PAYMENT.value
    lines = [
        BookLine(
            True,
            leg.account_id,
            -leg.amount_fen,
            payment if leg.account_id == own_account_id else MUTUAL_AID_OUT,
        )
        for leg in plan.legs
    ]
    if split.fund_fen:
        lines.append(BookLine(False, fund_account_id, -split.fund_fen, payment))
    if plan.cash_fen:
        lines.append(BookLine(False, external_account_id, -plan.cash_fen, payment))
    lines.append(BookLine(False, institution_account_id, split.total_fen, payment))
    assert sum(line.amount_fen for line in lines) == 0, "a settlement's lines must balance"
    return lines


# --- when a password is needed -----------------------------------------------------------------
class PasswordRule(StrEnum):
    NEVER = "never"
    ALWAYS = "always"
    # "yes, unless under the password-free limit": a burden up to the holder's limit is free.
    OVER_LIMIT = "over_limit"


# DOMAIN.md's table. Inpatient discharge asks with either medium: 003 (2023, specific) wins over
# 002 (2022, general). An agency changes a cell through the PASSWORD_POLICY setting (JSON, same
# shape, only the cells it changes), with no code change.
DEFAULT_PASSWORD_POLICY: Mapping[str, Mapping[str, str]] = {
    "registration": {"ecredential": "never", "card": "never"},
    "outpatient": {"ecredential": "never", "card": "over_limit"},
    "inpatient_discharge": {"ecredential": "over_limit", "card": "over_limit"},
    "pharmacy_prescription": {"ecredential": "never", "card": "over_limit"},
    "pharmacy_self_purchase": {"ecredential": "never", "card": "over_limit"},
    "cross_region": {"ecredential": "never", "card": "never"},
}


@dataclass(frozen=True)
class PasswordPolicy:
    """The password table: one rule for every scene × medium."""

    cells: Mapping[tuple[Scene, Medium], PasswordRule]

    def rule(self, scene: Scene, medium: Medium) -> PasswordRule:
        return self.cells[(scene, medium)]

    def as_table(self) -> dict[str, dict[str, str]]:
        return {s.value: {m.value: self.cells[(s, m)].value for m in Medium} for s in Scene}


def load_password_policy(
    override: str | Mapping[str, Any] | None = None,
) -> PasswordPolicy:
    """The default table with the cells of `override` (JSON text or a mapping) replaced.

    Raises ValueError naming the bad scene, medium or rule, so a mistyped setting stops the
    app at start instead of silently asking for no password.
    """
    table: dict[str, dict[str, str]] = {s: dict(c) for s, c in DEFAULT_PASSWORD_POLICY.items()}
    if isinstance(override, str):
        override = json.loads(override) if override.strip() else {}
    if override is not None:
        if not isinstance(override, Mapping):
            raise ValueError("PASSWORD_POLICY must be a JSON object of scene -> medium -> rule")
        for scene, row in override.items():
            if scene not in table:
                raise ValueError(f"PASSWORD_POLICY: unknown scene {scene!r}")
            if not isinstance(row, Mapping):
                raise ValueError(f"PASSWORD_POLICY: {scene!r} must map medium -> rule")
            for medium, rule in row.items():
                if medium not in table[scene]:
                    raise ValueError(f"PASSWORD_POLICY: unknown medium {medium!r}")
                if rule not in {r.value for r in PasswordRule}:
                    raise ValueError(f"PASSWORD_POLICY: unknown rule {rule!r}")
                table[scene][medium] = str(rule)
    return PasswordPolicy(
        cells={
            (Scene(s), Medium(m)): PasswordRule(rule)
            for s, row in table.items()
            for m, rule in row.items()
        }
    )


def needs_password(
    policy: PasswordPolicy,
    *,
    scene: Scene,
    medium: Medium,
    personal_burden_fen: int,
    password_free_limit_fen: int,
    accounts: AccountUse = AccountUse.ALL,
) -> bool:
    """Whether this payment asks the patient's payment password, per the policy table.

    The amount compared with the holder's password-free limit (限额免密) is the personal burden,
    the most the accounts may pay; a burden at or below the limit is free. A bill the fund pays
    whole (burden 0) never touches an account, so it never asks; nor does one whose burden is
    all paid in cash (`accounts` NONE: no account is debited).
    """
    if personal_burden_fen == 0 or accounts is AccountUse.NONE:
        return False
    rule = policy.rule(scene, medium)
    if rule is PasswordRule.NEVER:
        return False
    if rule is PasswordRule.ALWAYS:
        return True
    return personal_burden_fen > password_free_limit_fen
