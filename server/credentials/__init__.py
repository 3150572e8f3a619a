"""The e-credential: activation's credential row, offline kits, QR codes, scanning.

DOMAIN.md: "The e-credential", "Family proxy accounts (亲情账户)".
"""
