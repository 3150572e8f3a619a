"""Stand-ins named by `package.module:ClassName` (production mode needs both ports set)."""

from __future__ import annotations


class RecordingSms:
    """Keeps what it was asked to send in the class: the set-up reads login codes and initial
    passwords back from its own process (the jobs run inline there)."""

    sent: list[tuple[str, str, str]] = []  # noqa: RUF012  (shared on purpose)

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        RecordingSms.sent.append((phone, purpose, code))

    @classmethod
    def last(cls, phone: str, purpose: str) -> str:
        return [c for p, k, c in cls.sent if p == phone and k == purpose][-1]


class AcceptingFace:
    """Every live image matches: the suite is about faults, not faces."""

    def matches(self, enrolled_template: bytes, live_image: bytes) -> bool:
        return True
