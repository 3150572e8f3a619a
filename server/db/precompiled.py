"""A Core statement compiled once per dialect, for the hottest paths (a scan's two statements).

`Connection.execute(statement)` walks the statement to build its cache key on every call (tens of
microseconds for a joined SELECT); `exec_driver_sql` with the text compiled once skips that walk.
Only for statements whose parameters need no bind processing (the caller passes what the driver
takes) and whose result columns need no result processing. Dialects with a positional paramstyle
(SQLite's qmark) fall back to `Connection.execute`, since a dict cannot be passed as is.

DOMAIN.md: none: storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.sql import ClauseElement


class Precompiled:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._text: dict[str, str] = {}

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> CursorResult[Any]:
        dialect = conn.dialect
        if dialect.paramstyle not in ("pyformat", "named"):
            return conn.execute(self.statement, params)
        text = self._text.get(dialect.name)
        if text is None:
            if not isinstance(self.statement, ClauseElement):
                raise TypeError("only Core statements can be precompiled")
            text = self._text[dialect.name] = str(self.statement.compile(dialect=dialect))
        return conn.exec_driver_sql(text, dict(params))
