"""The journal is append-only in the database itself: corrections are reversing entries."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from server.ledger.models import JournalEntry, JournalTransaction
from tests.actors import Clerk
from tests.api.money_steps import balance, insured_with_money


@pytest.mark.parametrize(
    "statement",
    [
        update(JournalEntry).values(amount_fen=1),
        delete(JournalEntry),
        update(JournalTransaction).values(actor="someone else"),
        delete(JournalTransaction),
    ],
    ids=["update entry", "delete entry", "update transaction", "delete transaction"],
)
def test_journal_rows_can_be_neither_changed_nor_deleted(
    app: Flask, client: FlaskClient, clerk: Clerk, statement: object
) -> None:
    p = insured_with_money(client, clerk, "李明", "13900000001", 10_000)
    db = app.extensions["wiring"].db
    with db.sessions() as s, pytest.raises(DBAPIError, match="append-only"), s.begin():
        s.execute(statement)  # type: ignore[call-overload]
    assert balance(p) == 10_000
