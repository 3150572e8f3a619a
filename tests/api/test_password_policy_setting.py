"""The "when is a password needed" table is a setting: an agency changes a cell, no code change."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from server import create_app
from server.config import ConfigError
from tests.actors import Clerk, error_code
from tests.api.money_steps import balance, card_bill, insured_with_money, till


@pytest.mark.parametrize(
    "app_config", [{"PASSWORD_POLICY": '{"registration": {"card": "always"}}'}]
)
def test_an_agency_makes_card_registration_ask_the_password(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "李明", "13900000001", 50000)
    bill = card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    r = t.post("/settlements", bill)
    assert r.status_code == 422 and error_code(r) == "PASSWORD_REQUIRED"
    r = t.post("/settlements", {**bill, "payment_password": p.password})
    assert r.status_code == 201 and r.get_json()["password_checked"] is True
    # the other cells keep DOMAIN.md's values: a cross-region card bill still asks nothing
    r = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="cross_region")
    )
    assert r.status_code == 201 and r.get_json()["password_checked"] is False
    assert balance(p) == 48000


def test_a_mistyped_password_table_stops_the_app_at_start() -> None:
    with pytest.raises(ConfigError, match="PASSWORD_POLICY"):
        create_app({"TESTING": True, "PASSWORD_POLICY": '{"outpatient": {"card": "nevr"}}'})
