"""The pages' reads: the password-sending job's progress, a relative's balance, own expenses."""

from tests.actors import PersonSpec, Phone, bearer, error_code
from tests.api.money_steps import credit, ecredential_bill
from tests.households import app_user, relative


def _job(clerk, job_id):
    return clerk.client.get(f"/api/v1/admin/jobs/{job_id}", headers=bearer(clerk.token))


def test_an_import_answers_the_password_job_and_its_progress_reaches_the_total(client, clerk):
    people = [PersonSpec(f"甲{i}", f"1390000080{i}") for i in range(3)] + [PersonSpec("乙", None)]
    r = clerk.import_persons(*people)
    assert r.status_code == 201, r.get_json()
    job_id = r.get_json()["job_id"]
    r = _job(clerk, job_id)
    assert r.status_code == 200 and r.get_json() == {"state": "done", "done": 3, "total": 3}
    assert all(Phone(client, p.phone).initial_password() for p in people[:3])


def test_an_import_with_nobody_due_a_password_has_no_job(clerk):
    r = clerk.import_persons(PersonSpec("丙", None))
    assert r.status_code == 201 and r.get_json()["job_id"] is None


def test_an_unknown_job_is_not_found_and_jobs_are_for_clerks(client, clerk):
    r = _job(clerk, "0" * 32)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    _, phone = app_user(client, clerk, "丁")
    assert phone.get(f"/admin/jobs/{'0' * 32}").status_code == 403


def test_a_proxy_sees_the_balance_of_a_bound_relative_only(client, clerk):
    mother = relative(clerk, "陈桂英", birth="19500101")
    _, son = app_user(client, clerk, "李强", birth="19750101")
    _, neighbour = app_user(client, clerk, "赵六", birth="19700101")
    assert credit(clerk, "2026-01", (mother, 12345)).status_code == 201
    member_id = son.bind_member(mother, "parent").get_json()["member_id"]

    r = son.get(f"/family/members/{member_id}/account")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "member_id": member_id,
        "name_masked": "陈**",
        "relation": "parent",
        "balance_fen": 12345,
    }
    r = neighbour.get(f"/family/members/{member_id}/account")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")
    son.unbind_member(member_id)
    r = son.get(f"/family/members/{member_id}/account")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")


def test_a_user_sees_their_own_yearly_expenses(client, clerk):
    hospital = clerk.hospital_with_terminal("H801").sign_in()
    me, phone = app_user(client, clerk, "王芳")
    assert credit(clerk, "2026-01", (me, 50000)).status_code == 201
    qr = phone.get("/credential/qr").get_json()["qr_text"]
    token = hospital.post("/scan", {"qr_text": qr}).get_json()["scan_token"]
    bill = ecredential_bill(token, total_fen=10000, fund_fen=6000)
    r = hospital.post("/settlements", bill)
    assert r.status_code == 201, r.get_json()

    r = phone.get("/account/expenses")  # this year
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["total_fen"], body["fund_fen"], body["personal_account_fen"]) == (
        10000,
        6000,
        4000,
    )
    assert body["cash_fen"] == 0 and len(body["visits"]) == 1
    assert set(body) == {
        "year",
        "total_fen",
        "fund_fen",
        "personal_account_fen",
        "mutual_aid_fen",
        "cash_fen",
        "visits",
    }
    empty = phone.get("/account/expenses?year=2001").get_json()
    assert (empty["year"], empty["total_fen"], empty["visits"]) == (2001, 0, [])


def test_own_expenses_need_activation(client):
    phone = Phone(client, "13900000899").sign_in()
    r = phone.get("/account/expenses")
    assert (r.status_code, error_code(r)) == (409, "NOT_ACTIVATED")
