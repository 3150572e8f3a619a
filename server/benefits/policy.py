"""The benefit policy (待遇政策) as data: pools, rules and effective dates, loaded from a file.

Pure: no Flask, no SQLAlchemy, no pydantic. Implements issue 11's "policy as data": a versioned
file (YAML, or JSON, which is read the same way) validated whole when it is loaded, so a typo
stops the app at start with one `PolicyError` naming the file and the line. docs/benefit-policy.md
describes the format. Every amount is an integer number of fen; ratios are basis points.

This module only re-exports: the values and Policy.rule_for are in policy_model.py, the parsing
of the file in policy_reader.py, its validation in policy_file.py.
"""

from __future__ import annotations

from server.benefits.policy_file import (
    DEMO_POLICY_PATH,
    FORMAT,
    load_configured_policy,
    load_policy,
)
from server.benefits.policy_model import (
    FULL_RATIO_BP,
    FixedAmountRule,
    InsuranceType,
    Level,
    NoRuleError,
    PersonType,
    Policy,
    PolicyVersion,
    Pool,
    PooledRule,
    Rule,
    RuleKey,
    Source,
    person_of,
)
from server.benefits.policy_reader import PolicyError

__all__ = [
    "DEMO_POLICY_PATH",
    "FORMAT",
    "FULL_RATIO_BP",
    "FixedAmountRule",
    "InsuranceType",
    "Level",
    "NoRuleError",
    "PersonType",
    "Policy",
    "PolicyError",
    "PolicyVersion",
    "Pool",
    "PooledRule",
    "Rule",
    "RuleKey",
    "Source",
    "load_configured_policy",
    "load_policy",
    "person_of",
]
