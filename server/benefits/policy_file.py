"""Reading a benefit policy file (YAML, or JSON, which is read the same way) with line marks.

Pure: no Flask, no SQLAlchemy, no pydantic. Implements issue 11's "policy as data": a versioned
file validated whole when it is loaded, so a typo stops the app at start with one `PolicyError`
naming the file and the line. docs/benefit-policy.md describes the format. The values it builds
are in server/benefits/policy_model.py; server/benefits/policy.py re-exports both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise, product
from pathlib import Path
from typing import NoReturn, TypeVar

import yaml

from server.benefits.policy_model import (
    FULL_RATIO_BP,
    FixedAmountRule,
    InsuranceType,
    Level,
    PersonType,
    Policy,
    PolicyVersion,
    Pool,
    PooledRule,
    Rule,
    RuleKey,
    Source,
)
from server.settlement.rules import Scene

FORMAT = 1
DEMO_POLICY_PATH = Path(__file__).parent / "policies" / "demo.yaml"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


# --- reading the file ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Node:
    """A value of the file with the line it starts on (1-based)."""

    value: object  # dict[str, _Node] | list[_Node] | a scalar
    line: int
    key_lines: Mapping[str, int] | None = None


E = TypeVar("E", bound=StrEnum)

_POLICY_KEYS = {"format", "name", "demo", "description", "sources", "pools", "versions"}
_SOURCE_KEYS = {"title", "publisher", "published", "note"}
_POOL_KEYS = {"name", "note"}
_VERSION_KEYS = {"effective_from", "effective_until", "note", "covers", "rules"}
_MATCH_KEYS = {"insurance_types", "person_types", "scenes", "levels"}
_FIXED_KEYS = {"fixed_fen"}
_POOLED_KEYS = {"pool", "deductible_fen", "ratio_bp", "cap_fen"}
_RULE_KEYS = {"name", "sources", "note"} | _MATCH_KEYS | _FIXED_KEYS | _POOLED_KEYS


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, line: int | None, problem: str) -> NoReturn:
        raise PolicyError(self.path, line, problem)

    def mapping(
        self, node: _Node, what: str, *, required: Iterable[str], allowed: Iterable[str]
    ) -> dict[str, _Node]:
        if not isinstance(node.value, dict):
            self.fail(node.line, f"{what} must be a mapping")
        assert node.key_lines is not None
        allowed_set = set(allowed) | set(required)
        for key in node.value:
            if key not in allowed_set:
                self.fail(
                    node.key_lines[key],
                    f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed_set))})",
                )
        for key in required:
            if key not in node.value:
                self.fail(node.line, f"{what} needs the key {key!r}")
        return node.value

    def items(self, node: _Node, what: str) -> list[tuple[str, int, _Node]]:
        """A mapping's entries as (key, key's line, value), for mappings keyed by id."""
        if not isinstance(node.value, dict):
            self.fail(node.line, f"{what} must be a mapping")
        assert node.key_lines is not None
        return [(k, node.key_lines[k], v) for k, v in node.value.items()]

    def sequence(self, node: _Node, what: str) -> list[_Node]:
        if not isinstance(node.value, list) or not node.value:
            self.fail(node.line, f"{what} must be a non-empty list")
        return node.value

    def text(self, node: _Node, what: str) -> str:
        if not isinstance(node.value, str) or not node.value.strip():
            self.fail(node.line, f"{what} must be non-empty text")
        return node.value

    def optional_text(self, node: _Node | None, what: str) -> str | None:
        return None if node is None or node.value is None else self.text(node, what)

    def boolean(self, node: _Node, what: str) -> bool:
        if not isinstance(node.value, bool):
            self.fail(node.line, f"{what} must be true or false")
        return node.value

    def fen(self, node: _Node, what: str) -> int:
        value = node.value
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(node.line, f"{what} must be a whole number of fen, got {value!r}")
        if value < 0:
            self.fail(node.line, f"{what} cannot be negative, got {value}")
        return value

    def ratio_bp(self, node: _Node, what: str) -> int:
        value = self.fen(node, what) if node.value is not None else None
        if value is None or value > FULL_RATIO_BP:
            self.fail(node.line, f"{what} must be basis points from 0 to 10000, got {node.value!r}")
        return value

    def day(self, node: _Node, what: str) -> date:
        value = node.value
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(node.line, f"{what} must be a date YYYY-MM-DD, got {value!r}")

    def enums(self, node: _Node, enum: type[E], what: str) -> tuple[E, ...]:
        found: list[E] = []
        for item in self.sequence(node, what):
            value = item.value
            # An unquoted level 1 is an int in YAML; the policy means the level "1".
            raw = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            try:
                if not isinstance(raw, str):
                    raise ValueError(raw)
                found.append(enum(raw))
            except ValueError:
                choices = ", ".join(m.value for m in enum)
                self.fail(item.line, f"unknown {what[:-1]} {value!r} (one of: {choices})")
            if found.count(found[-1]) > 1:
                self.fail(item.line, f"{value!r} is listed twice in {what}")
        return tuple(found)

    def keys_of(self, fields: Mapping[str, _Node]) -> list[RuleKey]:
        """The combinations a `covers` entry or a rule matches."""
        return list(
            product(
                self.enums(fields["insurance_types"], InsuranceType, "insurance_types"),
                self.enums(fields["person_types"], PersonType, "person_types"),
                self.enums(fields["scenes"], Scene, "scenes"),
                self.enums(fields["levels"], Level, "levels"),
            )
        )


def _compose(path: Path, text: str) -> _Node:
    """The file's node tree with line marks; JSON is checked as JSON first, then read as YAML."""
    where = str(path)
    if path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(where, exc.lineno, f"not valid JSON: {exc.msg}") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(where, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(where, None, f"not valid YAML: {exc}") from None
    if root is None:
        raise PolicyError(where, 1, "the file is empty")
    constructor = yaml.SafeLoader("")

    def convert(node: yaml.Node) -> _Node:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            values: dict[str, _Node] = {}
            key_lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if (
                    not isinstance(key_node, yaml.ScalarNode)
                    or key_node.tag == "tag:yaml.org,2002:merge"
                ):
                    raise PolicyError(where, key_line, "keys must be plain text")
                key = str(key_node.value)
                if key in values:
                    raise PolicyError(where, key_line, f"duplicate key {key!r}")
                values[key] = convert(value_node)
                key_lines[key] = key_line
            return _Node(values, line, key_lines)
        if isinstance(node, yaml.SequenceNode):
            return _Node([convert(item) for item in node.value], line)
        assert isinstance(node, yaml.ScalarNode)
        try:
            # SafeConstructor is unannotated in types-PyYAML; it returns the scalar's plain value.
            value = constructor.construct_object(node)  # type: ignore[no-untyped-call]
            return _Node(value, line)
        except ValueError:
            # An impossible date such as 2023-02-30: keep the text, the field's check names it.
            return _Node(str(node.value), line)
        except yaml.YAMLError as exc:
            raise PolicyError(where, line, f"unreadable value: {exc}") from None

    return convert(root)


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
    r = _Reader(where)
    top = r.mapping(
        _compose(path, text),
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
    r: _Reader, node: _Node, *, pools: Mapping[str, Pool], sources: Mapping[str, Source]
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
    r: _Reader,
    fields: Mapping[str, _Node],
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


def _check_no_overlap(r: _Reader, versions: list[PolicyVersion]) -> None:
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
