"""Import every package's models so that Base.metadata knows every table (Alembic, tests)."""

from server.credentials import models as credentials
from server.db import models as foundation
from server.family import models as family
from server.mutual_aid import models as mutual_aid

__all__ = ["credentials", "family", "foundation", "mutual_aid"]
