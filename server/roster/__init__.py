"""The agency's roster of insured persons (参保人员名册)."""
