"""The agency's API (/api/v1/admin, role admin), one module per feature on one blueprint.

CONTRACT.md "Agency". Each module parses, calls one service with the request's unit of work,
and shapes the answer; none holds a query or a transaction.

DOMAIN.md: "Who uses it".
"""

from server.agency import (  # noqa: F401  (each module adds its routes to bp)
    cards,
    credentials,
    desk,
    his_keys,
    institutions,
    jobs,
    money,
    people,
    roster,
    roster_xlsx,
    sign_in,
)
from server.agency.common import bp

__all__ = ["bp"]
