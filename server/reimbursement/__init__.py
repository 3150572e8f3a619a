"""Manual reimbursement claims (手工报销). DOMAIN.md, "The e-credential" (001)."""
