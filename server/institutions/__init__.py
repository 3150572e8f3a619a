"""Designated institutions (hospitals, pharmacies) and their scanning terminals."""
