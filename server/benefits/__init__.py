"""Benefit policy (待遇政策) as data, and the pure engine that computes the fund's share.

`policy` loads and validates a policy file; `engine` computes what the pooled fund pays
(统筹基金支付) for one bill from a rule and the person's year so far. docs/benefit-policy.md
describes the file format, the demo policy and its sources, and the rounding.
"""
