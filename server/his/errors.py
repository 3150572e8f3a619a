"""The two refusals of the wire layer: a request we cannot read, and a caller we cannot trust.

A HisInputError becomes HTTP 200 with `infcode: -1` (clients re-send on a 5xx, and re-sending a
malformed request cannot help). A HisAuthError becomes HTTP 401 with its plain reason.
"""

from __future__ import annotations


class HisInputError(Exception):
    """A field the interface cannot accept; `code` is one of the project's error codes."""

    def __init__(self, field: str, reason_zh: str, *, code: str = "VALIDATION_ERROR") -> None:
        self.field = field
        self.reason_zh = reason_zh
        self.code = code
        super().__init__(f"{field}: {reason_zh}")

    @property
    def message_zh(self) -> str:
        return f"{self.field}：{self.reason_zh}" if self.field else self.reason_zh


class HisAuthError(Exception):
    """The gateway headers do not prove who is calling; `reason` is plain text for the 401."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
