"""The app's collaborators in one typed place: settings, clock, database and ports.

Routes take what a use case needs from here and pass plain values to the service; services
never reach for Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from server.accounts.passwords import PasswordHasher
from server.clock import Clock
from server.config import Settings
from server.credentials.keys import KeySource
from server.db import Database
from server.ports.face import FaceVerifier
from server.ports.sms import SmsSender
from server.ports.store import ShortLivedStore


@dataclass
class Wiring:
    settings: Settings
    clock: Clock
    db: Database
    store: ShortLivedStore
    sms: SmsSender
    face: FaceVerifier
    hasher: PasswordHasher
    keys: KeySource

    def close(self) -> None:
        """Release the database pool and the store's connections."""
        self.store.close()
        self.db.dispose()


def wiring() -> Wiring:
    w: Wiring = current_app.extensions["wiring"]
    return w
