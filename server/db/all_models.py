"""Import every package's models so that Base.metadata knows every table (Alembic, tests)."""

from server.db import models as foundation

__all__ = ["foundation"]
