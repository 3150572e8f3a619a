"""`make run`'s demo shows three insured persons with money and a card each, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from server import demo
from server.db.models import Account, Person


def test_the_demo_persons_have_money_and_cards_and_a_rerun_adds_none(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "DEMO_FILE", tmp_path / "demo.json")
    w = app.extensions["wiring"]
    lines = list(demo.load_demo(w))
    assert any("/api/v1/terminal/settlements" in line for line in lines)
    admin = w.settings
    assert any(f"{admin.admin_username} / {admin.admin_password}" in line for line in lines)
    list(demo.load_demo(w))  # a second run changes nothing
    with w.db.sessions() as s:
        balances = dict(
            s.execute(
                select(Person.name, Account.balance_fen).join(
                    Account, Account.person_id == Person.id
                )
            ).all()
        )
    assert balances == {
        name: amount
        for (_, name, _, _), amount in zip(demo.PERSONS, demo.DEMO_CREDITS_FEN, strict=True)
    }
