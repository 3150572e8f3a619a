"""A scan grants one settlement to its institution for 10 minutes; settlement redeems it inside
its own transaction, so a failed settlement leaves the token usable (and the code still used)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.credentials.scanning import ScanGrant, redeem_scan_token
from server.errors import ScanTokenInvalidError
from server.institutions.service import authenticate_terminal
from tests.actors import PersonSpec, Phone


@pytest.fixture
def scanned(app, client, clerk):
    person = PersonSpec("钱十", "13900000401")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    terminal = clerk.hospital_with_terminal("H400").sign_in()
    clerk.hospital_with_terminal("H401")
    text = phone.get("/credential/qr").get_json()["qr_text"]
    r = terminal.post("/scan", {"qr_text": text})
    assert r.status_code == 200
    w = app.extensions["wiring"]
    with w.unit_of_work() as uow:
        who = authenticate_terminal(uow, terminal_id=terminal.terminal_id, secret=terminal.secret)
    return r.get_json()["scan_token"], who.institution_id, w


def redeem(w, token, institution_id, now):
    with w.db.sessions() as s, s.begin():
        return redeem_scan_token(s, token=token, institution_id=institution_id, now=now)


def test_a_scan_token_is_redeemed_once_for_the_scanned_person(scanned, clock):
    token, institution_id, w = scanned
    grant = redeem(w, token, institution_id, clock.now())
    assert isinstance(grant, ScanGrant)
    assert grant.presented_by_user_id is None and grant.relation is None
    with pytest.raises(ScanTokenInvalidError):
        redeem(w, token, institution_id, clock.now())


def test_a_rolled_back_settlement_leaves_the_token_unused(scanned, clock):
    token, institution_id, w = scanned

    class SettlementFailedError(Exception):
        pass

    with pytest.raises(SettlementFailedError), w.db.sessions() as s, s.begin():
        redeem_scan_token(s, token=token, institution_id=institution_id, now=clock.now())
        raise SettlementFailedError
    assert redeem(w, token, institution_id, clock.now()).person_id


def test_a_token_of_another_institution_is_invalid(scanned, clock):
    token, institution_id, w = scanned
    with pytest.raises(ScanTokenInvalidError):
        redeem(w, token, institution_id + 1, clock.now())


@pytest.mark.parametrize(("after", "valid"), [(599, True), (600, False)])
def test_a_token_lasts_10_minutes(scanned, clock, after, valid):
    token, institution_id, w = scanned
    at = clock.now() + timedelta(seconds=after)
    if valid:
        assert redeem(w, token, institution_id, at)
    else:
        with pytest.raises(ScanTokenInvalidError):
            redeem(w, token, institution_id, at)


def test_an_unknown_token_is_invalid(scanned, clock):
    _, institution_id, w = scanned
    with pytest.raises(ScanTokenInvalidError):
        redeem(w, "made-up", institution_id, clock.now())
