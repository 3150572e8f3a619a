"""Reading a benefit policy file (YAML, or JSON, which is read the same way) into line-marked nodes.

Pure: no Flask, no SQLAlchemy, no pydantic. `compose` turns the file's text into a tree of
`Node`s that remember their lines; `Reader` checks one node at a time and raises `PolicyError`
naming the file and the line. The policy's own rules are checked in
server/benefits/policy_file.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import product
from pathlib import Path
from typing import NoReturn, TypeVar

import yaml

from server.benefits.policy_model import FULL_RATIO_BP, InsuranceType, Level, PersonType, RuleKey
from server.settlement.rules import Scene


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Node:
    """A value of the file with the line it starts on (1-based)."""

    value: object  # dict[str, Node] | list[Node] | a scalar
    line: int
    key_lines: Mapping[str, int] | None = None


E = TypeVar("E", bound=StrEnum)


class Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, line: int | None, problem: str) -> NoReturn:
        raise PolicyError(self.path, line, problem)

    def mapping(
        self, node: Node, what: str, *, required: Iterable[str], allowed: Iterable[str]
    ) -> dict[str, Node]:
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

    def items(self, node: Node, what: str) -> list[tuple[str, int, Node]]:
        """A mapping's entries as (key, key's line, value), for mappings keyed by id."""
        if not isinstance(node.value, dict):
            self.fail(node.line, f"{what} must be a mapping")
        assert node.key_lines is not None
        return [(k, node.key_lines[k], v) for k, v in node.value.items()]

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node.value, list) or not node.value:
            self.fail(node.line, f"{what} must be a non-empty list")
        return node.value

    def text(self, node: Node, what: str) -> str:
        if not isinstance(node.value, str) or not node.value.strip():
            self.fail(node.line, f"{what} must be non-empty text")
        return node.value

    def optional_text(self, node: Node | None, what: str) -> str | None:
        return None if node is None or node.value is None else self.text(node, what)

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node.value, bool):
            self.fail(node.line, f"{what} must be true or false")
        return node.value

    def fen(self, node: Node, what: str) -> int:
        value = node.value
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(node.line, f"{what} must be a whole number of fen, got {value!r}")
        if value < 0:
            self.fail(node.line, f"{what} cannot be negative, got {value}")
        return value

    def ratio_bp(self, node: Node, what: str) -> int:
        value = self.fen(node, what) if node.value is not None else None
        if value is None or value > FULL_RATIO_BP:
            self.fail(node.line, f"{what} must be basis points from 0 to 10000, got {node.value!r}")
        return value

    def day(self, node: Node, what: str) -> date:
        value = node.value
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(node.line, f"{what} must be a date YYYY-MM-DD, got {value!r}")

    def enums(self, node: Node, enum: type[E], what: str) -> tuple[E, ...]:
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

    def keys_of(self, fields: Mapping[str, Node]) -> list[RuleKey]:
        """The combinations a `covers` entry or a rule matches."""
        return list(
            product(
                self.enums(fields["insurance_types"], InsuranceType, "insurance_types"),
                self.enums(fields["person_types"], PersonType, "person_types"),
                self.enums(fields["scenes"], Scene, "scenes"),
                self.enums(fields["levels"], Level, "levels"),
            )
        )


def compose(path: Path, text: str) -> Node:
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

    def convert(node: yaml.Node) -> Node:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            values: dict[str, Node] = {}
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
            return Node(values, line, key_lines)
        if isinstance(node, yaml.SequenceNode):
            return Node([convert(item) for item in node.value], line)
        assert isinstance(node, yaml.ScalarNode)
        try:
            # SafeConstructor is unannotated in types-PyYAML; it returns the scalar's plain value.
            value = constructor.construct_object(node)  # type: ignore[no-untyped-call]
            return Node(value, line)
        except ValueError:
            # An impossible date such as 2023-02-30: keep the text, the field's check names it.
            return Node(str(node.value), line)
        except yaml.YAMLError as exc:
            raise PolicyError(where, line, f"unreadable value: {exc}") from None

    return convert(root)
