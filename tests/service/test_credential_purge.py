"""`flask purge`: expired scan tokens and kits go, and no answer changes."""

from datetime import datetime, timedelta

from mobile_api.offline import OfflineGenerator
from server.credentials.maintenance import Purged, purge_expired
from tests.actors import PersonSpec, Phone, error_code


def test_purge_deletes_only_rows_expired_a_day_ago_and_old_codes_still_say_why(
    app, client, clerk, clock
):
    person = PersonSpec("清理", "13900000401")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    kit = phone.activate(person).get_json()["offline_kit"]
    terminal = clerk.hospital_with_terminal("HP1").sign_in()
    offline = OfflineGenerator.from_kit(kit, received_at=clock.now())
    r = terminal.post("/scan", {"qr_text": offline.next_code(clock.now()).qr_text})
    assert r.status_code == 200, r.get_json()
    db = app.extensions["wiring"].db

    def purge() -> Purged:
        with db.sessions() as session:
            return purge_expired(session, now=clock.now())

    assert purge() == Purged(scan_tokens=0, offline_kits=0)
    clock.advance(10 * 60 + 24 * 3600 + 1)  # the scan token's 10 minutes, then a day
    assert purge() == Purged(scan_tokens=1, offline_kits=0)

    kit_end = datetime.fromisoformat(kit["expires_at"])
    late_code = offline.next_code(kit_end - timedelta(seconds=10)).qr_text
    clock.set(kit_end + timedelta(days=1, seconds=1))
    assert purge() == Purged(scan_tokens=0, offline_kits=1)
    # the kit's row is gone, yet its code is refused for the same reason as before
    assert error_code(terminal.post("/scan", {"qr_text": late_code})) == "KIT_EXPIRED"


def test_the_purge_command_reports_what_it_deleted(app):
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "0 scan tokens and 0 offline kits deleted" in result.output
