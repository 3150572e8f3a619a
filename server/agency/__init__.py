"""The agency's API (/api/v1/admin, role admin)."""
