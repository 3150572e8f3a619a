"""Validating a benefit policy file (YAML, or JSON, which is read the same way) and loading it.

Pure: no Flask, no SQLAlchemy, no pydantic. Implements issue 11's "policy as data": a versioned
file validated whole when it is loaded, so a typo stops the app at start with one `PolicyError`
naming the file and the line. docs/benefit-policy.md describes the format. The file is parsed
into line-marked nodes by server/benefits/policy_reader.py; the values it builds are in
server/benefits/policy_model.py; server/benefits/policy.py re-exports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path

from server.benefits.policy_model import (
    FixedAmountRule,
    Policy,
    PolicyVersion,
    Pool,
    PooledRule,
    Rule,
    RuleKey,
    Source,
)
from server.benefits.policy_reader import Node, PolicyError, Reader, compose

FORMAT = 1
DEMO_POLICY_PATH = Path(__file__).parent / "policies" / "demo.yaml"

_POLICY_KEYS = {"format", "name", "demo", "description", "sources", "pools", "versions"}
_SOURCE_KEYS = {"title", "publisher", "published", "note"}
_POOL_KEYS = {"name", "note"}
_VERSION_KEYS = {"effective_from", "effective_until", "note", "covers", "rules"}
_MATCH_KEYS = {"insurance_types", "person_types", "scenes", "levels"}
_FIXED_KEYS = {"fixed_fen"}
_POOLED_KEYS = {"pool", "deductible_fen", "ratio_bp", "cap_fen"}
_RULE_KEYS = {"name", "sources", "note"} | _MATCH_KEYS | _FIXED_KEYS | _POOLED_KEYS


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file (YAML or JSON).

    Raises PolicyError, naming the file and the line, for a file that cannot be read or parsed,
    an unknown key, a bad enum value, a negative amount, a ratio outside 0..10000 bp, a rule
    that is neither a fixed amount nor a pooled rule, overlapping effective dates, a rule for a
    combination its version does not claim to cover, two rules for one combination, or a
    combination the version claims to cover without a rule.
    """
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(where, None, f"cannot read the policy file: {exc}") from None
    r = Reader(where)
    top = r.mapping(
        compose(path, text),
        "the policy",
        required={"format", "name", "demo", "pools", "versions"},
        allowed=_POLICY_KEYS,
    )
    if top["format"].value != FORMAT:
        r.fail(top["format"].line, f"format must be {FORMAT}, got {top['format'].value!r}")

    sources: dict[str, Source] = {}
    if "sources" in top:
        for source_id, _, node in r.items(top["sources"], "sources"):
            fields = r.mapping(
                node, f"source {source_id!r}", required={"title"}, allowed=_SOURCE_KEYS
            )
            published = fields.get("published")
            sources[source_id] = Source(
                id=source_id,
                title=r.text(fields["title"], "title"),
                publisher=r.optional_text(fields.get("publisher"), "publisher"),
                published=r.day(published, "published") if published is not None else None,
                note=r.optional_text(fields.get("note"), "note"),
            )

    pools: dict[str, Pool] = {}
    for pool_id, _, node in r.items(top["pools"], "pools"):
        fields = r.mapping(node, f"pool {pool_id!r}", required={"name"}, allowed=_POOL_KEYS)
        pools[pool_id] = Pool(id=pool_id, name=r.text(fields["name"], "name"))
    if not pools:
        r.fail(top["pools"].line, "pools must name at least one pool")

    versions = [
        _read_version(r, node, pools=pools, sources=sources)
        for node in r.sequence(top["versions"], "versions")
    ]
    _check_no_overlap(r, versions)
    return Policy(
        name=r.text(top["name"], "name"),
        is_demo=r.boolean(top["demo"], "demo"),
        description=r.optional_text(top.get("description"), "description"),
        path=where,
        sources=sources,
        pools=pools,
        versions=tuple(sorted(versions, key=lambda v: v.effective_from)),
    )


def _read_version(
    r: Reader, node: Node, *, pools: Mapping[str, Pool], sources: Mapping[str, Source]
) -> PolicyVersion:
    fields = r.mapping(
        node, "a version", required={"effective_from", "covers", "rules"}, allowed=_VERSION_KEYS
    )
    effective_from = r.day(fields["effective_from"], "effective_from")
    until_node = fields.get("effective_until")
    effective_until = None
    if until_node is not None and until_node.value is not None:
        effective_until = r.day(until_node, "effective_until")
        if effective_until <= effective_from:
            r.fail(until_node.line, "effective_until must be after effective_from")

    covered: dict[RuleKey, int] = {}
    for cover in r.sequence(fields["covers"], "covers"):
        cover_fields = r.mapping(cover, "a covers entry", required=_MATCH_KEYS, allowed=_MATCH_KEYS)
        for key in r.keys_of(cover_fields):
            covered.setdefault(key, cover.line)

    rules: dict[RuleKey, Rule] = {}
    names: dict[str, int] = {}
    for rule_node in r.sequence(fields["rules"], "rules"):
        rule_fields = r.mapping(
            rule_node, "a rule", required={"name"} | _MATCH_KEYS, allowed=_RULE_KEYS
        )
        rule = _read_rule(r, rule_fields, rule_node.line, pools=pools, sources=sources)
        if rule.name in names:
            r.fail(rule.line, f"rule name {rule.name!r} is already used on line {names[rule.name]}")
        names[rule.name] = rule.line
        line = rule_node.line
        for key in r.keys_of(rule_fields):
            if key not in covered:
                r.fail(
                    line,
                    f"rule {rule.name!r} matches {_show(key)}, which the version's "
                    "covers do not list",
                )
            if key in rules:
                r.fail(
                    line,
                    f"rule {rule.name!r} matches {_show(key)}, already matched by rule "
                    f"{rules[key].name!r} on line {rules[key].line}",
                )
            rules[key] = rule
    for key, line in covered.items():
        if key not in rules:
            r.fail(
                line,
                f"the version from {effective_from} claims to cover {_show(key)}, "
                "but no rule matches it",
            )
    return PolicyVersion(
        effective_from=effective_from, effective_until=effective_until, rules=rules, line=node.line
    )


def _read_rule(
    r: Reader,
    fields: Mapping[str, Node],
    line: int,
    *,
    pools: Mapping[str, Pool],
    sources: Mapping[str, Source],
) -> Rule:
    name = r.text(fields["name"], "name")
    rule_sources: tuple[str, ...] = ()
    if "sources" in fields:
        for item in r.sequence(fields["sources"], "sources"):
            source_id = r.text(item, "a source id")
            if source_id not in sources:
                r.fail(item.line, f"rule {name!r} cites the unknown source {source_id!r}")
            rule_sources += (source_id,)
    is_fixed = "fixed_fen" in fields
    pooled_keys = sorted(k for k in _POOLED_KEYS if k in fields)
    if is_fixed:
        if pooled_keys:
            r.fail(
                line,
                f"rule {name!r} is a fixed amount per visit; it cannot also have "
                f"{', '.join(pooled_keys)}",
            )
        return FixedAmountRule(
            name=name,
            fixed_fen=r.fen(fields["fixed_fen"], "fixed_fen"),
            sources=rule_sources,
            line=line,
        )
    missing = [k for k in ("pool", "deductible_fen", "ratio_bp") if k not in fields]
    if missing:
        r.fail(
            line,
            f"rule {name!r} needs fixed_fen, or pool, deductible_fen and ratio_bp "
            f"(missing: {', '.join(missing)})",
        )
    pool = r.text(fields["pool"], "pool")
    if pool not in pools:
        r.fail(fields["pool"].line, f"rule {name!r} counts in the unknown pool {pool!r}")
    cap_node = fields.get("cap_fen")
    return PooledRule(
        name=name,
        pool=pool,
        deductible_fen=r.fen(fields["deductible_fen"], "deductible_fen"),
        ratio_bp=r.ratio_bp(fields["ratio_bp"], "ratio_bp"),
        cap_fen=r.fen(cap_node, "cap_fen")
        if cap_node is not None and cap_node.value is not None
        else None,
        sources=rule_sources,
        line=line,
    )


def _check_no_overlap(r: Reader, versions: list[PolicyVersion]) -> None:
    ordered = sorted(versions, key=lambda v: v.effective_from)
    for earlier, later in pairwise(ordered):
        if earlier.effective_until is None or later.effective_from < earlier.effective_until:
            r.fail(
                later.line,
                f"the version from {later.effective_from} overlaps the version "
                f"from {earlier.effective_from} on line {earlier.line}",
            )


def _show(key: RuleKey) -> str:
    insurance_type, person_type, scene, level = key
    return f"{insurance_type.value}/{person_type.value}/{scene.value}/level {level.value}"


def load_configured_policy(policy_file: str | None) -> Policy:
    """The policy named by the POLICY_FILE setting, or the shipped demo policy when it is unset.

    Raises PolicyError as load_policy does.
    """
    return load_policy(Path(policy_file) if policy_file else DEMO_POLICY_PATH)
