"""The ledger: an append-only double-entry journal in integer fen, and the accounts it moves.

DOMAIN.md: "The personal account (个人账户) and who pays what", "Dates and money".
"""
