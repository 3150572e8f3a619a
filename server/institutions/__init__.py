"""Designated institutions (hospitals, pharmacies) and their scanning terminals.

DOMAIN.md: "Who uses it".
"""
