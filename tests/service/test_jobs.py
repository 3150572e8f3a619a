"""Initial passwords go through the jobs port, and every runner delivers them (issue 9).

Inline (tests, commands) on the rolled-back unit of work; a thread of the app's own (no Redis);
and python-rq with a real Redis, the production path, worked in this process by rq's SimpleWorker.
"""

from __future__ import annotations

import pytest

from server import jobs
from server.ports.jobs import RqJobs, ThreadJobs
from server.roster.importing import import_roster
from server.roster.service import RosterRow, fix_phone
from tests.actors import Clerk, PersonSpec, Phone, face
from tests.conftest import REDIS_URL, _empty_shared_state


def _row(name: str, phone: str | None) -> RosterRow:
    person = PersonSpec(name, phone)
    return RosterRow(
        id_number=person.id_number,
        name=name,
        phone=phone,
        region=person.region,
        insurance_type=person.insurance_type,
        face_template=face(name),
    )


def test_initial_passwords_are_texted_on_import_or_once_a_phone_is_known(uow):
    with_phone, without = _row("任务", "13900000601"), _row("无机", None)

    result = import_roster(uow, [with_phone, without], actor="clerk")

    assert (result.created, len(result.pending_password_accounts)) == (2, 1)
    [message] = uow.sms.messages("13900000601")
    assert message.purpose == "payment_password" and len(message.code) == 6

    fix_phone(uow, without.id_number, "13900000602", actor="clerk")

    [later] = uow.sms.messages("13900000602")
    assert later.purpose == "payment_password"


def test_a_failed_thread_job_does_not_stop_the_ones_behind_it():
    ran: list[str] = []

    def runner(task: str, kwargs: dict[str, object]) -> None:
        if task == "broken":
            raise RuntimeError("boom")
        ran.append(task)

    thread_jobs = ThreadJobs(runner)
    thread_jobs.enqueue("broken")
    thread_jobs.enqueue("fine")
    thread_jobs.join()
    thread_jobs.close()
    assert ran == ["fine"]


def test_the_app_thread_texts_initial_passwords_after_the_import(make_app):
    app = make_app(
        JOBS_BACKEND="thread", ADMIN_USERNAME=Clerk.ADMIN[0], ADMIN_PASSWORD=Clerk.ADMIN[1]
    )
    _empty_shared_state(app)
    w = app.extensions["wiring"]
    assert isinstance(w.jobs, ThreadJobs)
    client = app.test_client()
    people = [PersonSpec(f"线程{i}", f"1390000070{i}") for i in range(3)]

    Clerk.signed_in(client).enrol(*people)
    w.jobs.join()

    for person in people:
        assert len(Phone(client, str(person.phone)).initial_password()) == 6


@pytest.mark.redis
def test_an_rq_worker_texts_initial_passwords_queued_by_the_import(make_app):
    from rq import SimpleWorker

    app = make_app(
        JOBS_BACKEND="rq",
        REDIS_URL=REDIS_URL,
        ADMIN_USERNAME=Clerk.ADMIN[0],
        ADMIN_PASSWORD=Clerk.ADMIN[1],
    )
    _empty_shared_state(app)
    w = app.extensions["wiring"]
    assert isinstance(w.jobs, RqJobs)
    client = app.test_client()
    person = PersonSpec("队列", "13900000801")
    phone = Phone(client, str(person.phone))

    Clerk.signed_in(client).enrol(person)
    assert phone.outbox("payment_password") == []  # queued in Redis, not yet run
    assert len(w.jobs.queue) == 1

    jobs.use_wiring(w)  # the worker runs in this process, on this app's database and outbox
    try:
        worked = SimpleWorker([w.jobs.queue], connection=w.jobs.queue.connection).work(burst=True)
    finally:
        jobs.use_wiring(None)

    assert worked
    assert len(w.jobs.queue) == 0
    assert len(phone.initial_password()) == 6
