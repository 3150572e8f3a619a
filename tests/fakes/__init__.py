"""Stand-ins named by `package.module:ClassName` in production-mode tests (SMS, face)."""

from __future__ import annotations


class RecordingSmsSender:
    """Keeps what it was asked to send, in the class (the app builds its own instance)."""

    sent: list[tuple[str, str, str]] = []  # noqa: RUF012  (shared on purpose: tests read it)

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        RecordingSmsSender.sent.append((phone, purpose, code))


class RefusingFaceVerifier:
    def matches(self, enrolled_template: bytes, live_image: bytes) -> bool:
        return False
