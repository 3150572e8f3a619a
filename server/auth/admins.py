"""Agency clerks' sign-in. The first admin comes from config (ADMIN_USERNAME / ADMIN_PASSWORD)
and is stored, hashed, at its first sign-in."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.passwords import PasswordHasher
from server.db.models import Admin
from server.errors import UnauthorizedError


def authenticate_admin(
    session: Session,
    *,
    username: str,
    password: str,
    hasher: PasswordHasher,
    bootstrap: tuple[str | None, str | None],
    now: datetime,
) -> int:
    """The admin's id for a right username and password; UnauthorizedError otherwise."""
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
