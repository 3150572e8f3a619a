"""Import every package's models so that Base.metadata knows every table (Alembic, tests).

DOMAIN.md: none: storage.
"""

from server.benefits import models as benefits
from server.cards import models as cards
from server.credentials import models as credentials
from server.db import models as foundation
from server.family import models as family
from server.hospital import models as hospital
from server.ledger import models as ledger
from server.mutual_aid import models as mutual_aid
from server.reimbursement import models as reimbursement
from server.settlement import models as settlement
from server.supplementary import models as supplementary

__all__ = [
    "benefits",
    "cards",
    "credentials",
    "family",
    "foundation",
    "hospital",
    "ledger",
    "mutual_aid",
    "reimbursement",
    "settlement",
    "supplementary",
]
