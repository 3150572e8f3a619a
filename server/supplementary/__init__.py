"""Supplementary insurance (北京普惠健康保) bought from the personal account. DOMAIN.md (002)."""
