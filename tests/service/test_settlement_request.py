"""The settlement request as the service holds it: the password stays out of sight."""

from __future__ import annotations

from server.settlement.rules import Medium, Scene
from server.settlement.service import SettleRequest


def test_a_settlement_request_never_shows_its_payment_password() -> None:
    request = SettleRequest("O1", Scene.OUTPATIENT, Medium.CARD, None, "B1", 100, 0, "739164")
    assert "739164" not in repr(request)
    without = SettleRequest("O1", Scene.OUTPATIENT, Medium.CARD, None, "B1", 100, 0, None)
    # a retry is "the same body" whatever password it carries
    assert request.digest() == without.digest()
