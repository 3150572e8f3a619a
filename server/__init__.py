"""The e-credential backend.

The package root stays light on purpose: `import server.settlement.rules` must not load Flask or
SQLAlchemy. `server.create_app` (the contract's factory) is therefore looked up lazily from
`server.app`.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from server.app import create_app

        return create_app
    raise AttributeError(f"module 'server' has no attribute {name!r}")
