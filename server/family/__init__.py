"""Family proxy accounts (亲情账户): bindings, proxy codes, members' yearly costs.

DOMAIN.md: "Family proxy accounts (亲情账户)".
"""
