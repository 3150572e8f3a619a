"""Property-based (stateful) test of the ledger through the API.

Random monthly credits, settlements, refunds and premiums, in any order; after every step the
balances the patients see match a simple model, and the journal keeps its books: every
transaction and the whole journal sum to zero, every personal balance equals the sum of its
entries (and its last entry's balance-after), and none is negative.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import func, select

from server.clock import BEIJING, FrozenClock
from server.db.models import Account
from server.ledger.models import JournalEntry
from tests.actors import Clerk, error_code
from tests.api.money_steps import Insured, card_bill, credit, insured_with_money, till
from tests.conftest import MigratedDatabase


@pytest.fixture(autouse=True)
def _schema(migrated: MigratedDatabase) -> None:
    """The machine makes its own apps, each on the run's migrated schema."""
    LedgerMachine.migrated = migrated


_phones = itertools.count(1)
_institutions = itertools.count(1)
SCENES = ["registration", "outpatient", "pharmacy_prescription", "pharmacy_self_purchase"]


class LedgerMachine(RuleBasedStateMachine):
    settlements = Bundle("settlements")
    migrated: MigratedDatabase

    def __init__(self) -> None:
        super().__init__()
        self.clock = FrozenClock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING))
        # PostgreSQL and Redis keep rows between examples: migrated.app empties them
        self.app = self.migrated.app(
            {
                "TESTING": True,
                "CLOCK": self.clock,
                "ADMIN_USERNAME": Clerk.ADMIN[0],
                "ADMIN_PASSWORD": Clerk.ADMIN[1],
            }
        )
        self.client = self.app.test_client()
        self.people: list[Insured] = []
        self.model: dict[int, int] = {}  # person index -> balance in fen
        self.credited: set[tuple[int, str]] = set()
        self.premiums: set[tuple[int, str]] = set()
        self.paid: dict[str, tuple[int, int]] = {}  # settlement id -> (person, fen from account)
        self.refunded: set[str] = set()

    @initialize()
    def enrol(self) -> None:
        self.clerk = Clerk.signed_in(self.client)
        self.till = till(self.clerk, f"P{next(_institutions):05d}")
        for i in range(3):
            p = insured_with_money(
                self.client, self.clerk, f"测试{i}", f"137{next(_phones):08d}", 0
            )
            # a high password-free limit lets any scene pay without typing the password
            r = p.phone.put(
                "/account/password-free-limit", {"limit_fen": 10**9, "payment_password": p.password}
            )
            assert r.status_code == 200, r.get_json()
            self.people.append(p)
            self.model[i] = 0

    @rule(
        who=st.integers(0, 2),
        month=st.sampled_from(["2026-09", "2026-10", "2026-11"]),
        amount=st.integers(1, 60_000),
    )
    def monthly_credit(self, who: int, month: str, amount: int) -> None:
        r = credit(self.clerk, month, (self.people[who].spec, amount))
        assert r.status_code == 201, r.get_json()
        if (who, month) in self.credited:
            assert r.get_json() == {"credited": 0, "skipped": 1}
        else:
            assert r.get_json() == {"credited": 1, "skipped": 0}
            self.credited.add((who, month))
            self.model[who] += amount

    @rule(
        target=settlements,
        who=st.integers(0, 2),
        total=st.integers(1, 80_000),
        fund_share=st.integers(0, 100),
        scene=st.sampled_from(SCENES),
    )
    def settle(self, who: int, total: int, fund_share: int, scene: str) -> str:
        fund = 0 if scene == "pharmacy_self_purchase" else total * fund_share // 100
        r = self.till.post(
            "/settlements",
            card_bill(self.people[who].card_no, total_fen=total, fund_fen=fund, scene=scene),
        )
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        expected = min(self.model[who], total - fund)
        paid = sum(leg["amount_fen"] for leg in body["paid_from_accounts"])
        assert paid == expected
        assert body["cash_due_fen"] == total - fund - expected
        self.model[who] -= paid
        self.paid[body["settlement_id"]] = (who, paid)
        return str(body["settlement_id"])

    @rule(settlement_id=settlements)
    def refund(self, settlement_id: str) -> None:
        r = self.till.post(f"/settlements/{settlement_id}/refund")
        if settlement_id in self.refunded:
            assert r.status_code == 409 and error_code(r) == "ALREADY_REFUNDED"
            return
        assert r.status_code == 200, r.get_json()
        self.refunded.add(settlement_id)
        who, paid = self.paid[settlement_id]
        self.model[who] += paid

    @rule(
        who=st.integers(0, 2),
        product=st.sampled_from(["BJ-PUHUI", "BJ-PLUS"]),
        premium=st.integers(1, 40_000),
    )
    def premium(self, who: int, product: str, premium: int) -> None:
        r = self.people[who].phone.post(
            "/supplementary-insurance/purchases",
            {"product_code": product, "premium_fen": premium, "insured": "self"},
        )
        if (who, product) in self.premiums:
            assert r.status_code == 200
        elif self.model[who] >= premium:
            assert r.status_code == 201, r.get_json()
            self.premiums.add((who, product))
            self.model[who] -= premium
        else:
            assert r.status_code == 422 and error_code(r) == "INSUFFICIENT_BALANCE"

    @precondition(lambda self: bool(self.people))
    @rule(hours=st.integers(1, 48))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 3600)

    @precondition(lambda self: bool(self.people))
    @invariant()
    def patients_see_the_models_balances(self) -> None:
        for i, p in enumerate(self.people):
            shown = p.phone.get("/account").get_json()["balance_fen"]
            assert shown == self.model[i]

    @invariant()
    def the_books_balance(self) -> None:
        with self.app.extensions["wiring"].db.sessions() as s:
            assert s.scalar(select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))) == 0
            unbalanced = s.execute(
                select(JournalEntry.transaction_id)
                .group_by(JournalEntry.transaction_id)
                .having(func.sum(JournalEntry.amount_fen) != 0)
            ).all()
            assert unbalanced == []
            sums = dict(
                s.execute(
                    select(JournalEntry.account_id, func.sum(JournalEntry.amount_fen))
                    .where(JournalEntry.account_id.is_not(None))
                    .group_by(JournalEntry.account_id)
                ).all()
            )
            last_after = dict(
                s.execute(
                    select(JournalEntry.account_id, JournalEntry.balance_after_fen).where(
                        JournalEntry.id.in_(
                            select(func.max(JournalEntry.id))
                            .where(JournalEntry.account_id.is_not(None))
                            .group_by(JournalEntry.account_id)
                        )
                    )
                ).all()
            )
            for account_id, cached in s.execute(select(Account.id, Account.balance_fen)).all():
                assert cached >= 0
                assert cached == sums.get(account_id, 0)
                assert cached == last_after.get(account_id, 0)

    def teardown(self) -> None:
        self.app.extensions["wiring"].close()


LedgerMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_keeps_its_books_under_any_sequence = LedgerMachine.TestCase
