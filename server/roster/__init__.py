"""The agency's roster of insured persons (参保人员名册).

DOMAIN.md: "Activation = real-name verification", "Payment password".
"""
