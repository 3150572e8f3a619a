"""Physical social-security cards (社保卡): issue, report lost, issue a new one.

DOMAIN.md: "The e-credential".
"""
