"""Agency clerks' sign-in. The first admin comes from config (ADMIN_USERNAME / ADMIN_PASSWORD)
and is stored, hashed, at its first sign-in."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.db.models import Admin
from server.errors import UnauthorizedError
from server.uow import UnitOfWork


def authenticate_admin(uow: UnitOfWork, *, username: str, password: str) -> int:
    """The admin's id for a right username and password; UnauthorizedError otherwise.

    The first admin comes from the configuration (ADMIN_USERNAME / ADMIN_PASSWORD) and is stored
    at their first sign-in.
    """
    session, hasher, now = uow.session, uow.hasher, uow.clock.now()
    bootstrap = (uow.settings.admin_username, uow.settings.admin_password)
    with session.begin():
        admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is not None:
        if hasher.verify(admin.password_hash, password):
            return admin.id
        raise UnauthorizedError("Wrong username or password")
    hasher.verify(None, password)  # the same cost whether or not the name exists
    boot_user, boot_password = bootstrap
    if (
        boot_user
        and boot_password
        and hmac.compare_digest(username.encode(), boot_user.encode())
        and hmac.compare_digest(password.encode(), boot_password.encode())
    ):
        try:
            with session.begin():
                admin = Admin(
                    username=username, password_hash=hasher.hash(password), created_at=now
                )
                session.add(admin)
                session.flush()
                return admin.id
        except IntegrityError:  # a parallel first sign-in stored it
            with session.begin():
                found = session.scalar(select(Admin.id).where(Admin.username == username))
                assert found is not None
                return found
    raise UnauthorizedError("Wrong username or password")
