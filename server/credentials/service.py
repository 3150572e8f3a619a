"""A facade kept for server/terminal/routes.py, which calls `service.scan`.

The credential use cases live by job: lifecycle.py, kits.py, scanning.py, publication.py. Once
the terminal blueprint imports `server.credentials.scanning`, this module goes.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

from server.credentials.scanning import scan

__all__ = ["scan"]
