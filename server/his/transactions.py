"""The inputs and outputs of the served transactions, in fen inside and yuan on the wire.

Each `read_*` takes an Envelope's input and returns a frozen dataclass of plain values (money
in fen); each `*_output` takes plain values and returns the output node, money as two-decimal
yuan. The settlement output checks the identities that must hold to the fen:
medfee = fund + person + hospital, person = account + cash, mutual aid inside account.
docs/his-interface.md, "Transactions".

The readers are in server/his/readers.py, the output builders in server/his/outputs.py; this
module re-exports both, so `from server.his import transactions as tx` keeps working.
"""

from __future__ import annotations

from server.his.outputs import (
    Insurance,
    Settled,
    Totals,
    fee_result_output,
    person_output,
    reconciliation_output,
    registration_output,
    settlement_output,
    sign_in_output,
)
from server.his.readers import (
    REVERSIBLE_INFNOS,
    FeeLine,
    PersonQuery,
    Reconciliation,
    Refs,
    Reversal,
    SettlementRequest,
    SignIn,
    read_fee_details,
    read_person_query,
    read_reconciliation,
    read_refs,
    read_reversal,
    read_settlement,
    read_sign_in,
)

__all__ = [
    "REVERSIBLE_INFNOS",
    "FeeLine",
    "Insurance",
    "PersonQuery",
    "Reconciliation",
    "Refs",
    "Reversal",
    "Settled",
    "SettlementRequest",
    "SignIn",
    "Totals",
    "fee_result_output",
    "person_output",
    "read_fee_details",
    "read_person_query",
    "read_reconciliation",
    "read_refs",
    "read_reversal",
    "read_settlement",
    "read_sign_in",
    "reconciliation_output",
    "registration_output",
    "settlement_output",
    "sign_in_output",
]
