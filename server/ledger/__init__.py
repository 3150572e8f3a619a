"""The ledger: an append-only double-entry journal in integer fen, and the accounts it moves."""
