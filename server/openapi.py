"""OpenAPI 3.1, generated from the pydantic models that validate each call (server/http.py).

DOMAIN.md: none: documentation.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def _schema(model: type[BaseModel], components: dict[str, Any], mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)  # type: ignore[arg-type]
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_spec(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "__openapi__", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        roles = getattr(view, "__openapi_roles__", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": meta["summary"] or rule.endpoint,
                "tags": [rule.endpoint.split(".")[0]],
                "parameters": [
                    {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                    for arg in sorted(rule.arguments)
                ],
                "responses": {
                    "default": {
                        "description": "An error in the contract's envelope",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                },
            }
            if roles:
                op["security"] = [{"bearer": []}]
                op["description"] = f"Role: {', '.join(roles)}"
            if meta["query"] is not None:
                for name, field in meta["query"].model_fields.items():
                    op["parameters"].append(
                        {
                            "name": name,
                            "in": "query",
                            "required": field.is_required(),
                            "schema": {"type": "string"},
                        }
                    )
            if meta["body"] is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _schema(meta["body"], components, "validation")
                        }
                    },
                }
            answer: dict[str, Any] = {"description": "OK"}
            if meta["content_type"]:
                answer["content"] = {meta["content_type"]: {}}
            elif meta["answer"] is not None:
                answer["content"] = {
                    "application/json": {
                        "schema": _schema(meta["answer"], components, "serialization")
                    }
                }
            op["responses"][str(meta["status"])] = answer
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Medical-insurance e-credential (医保电子凭证) API",
            "version": "1",
            "description": (
                "Money in integer fen; times ISO-8601 with offset; errors in one envelope."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
