"""The scanner's API (/api/v1/terminal, role terminal).

DOMAIN.md: "Who uses it", "The e-credential".
"""

from server.terminal import lookup  # noqa: F401  (adds the look-up by order number to bp)
from server.terminal.routes import bp

__all__ = ["bp"]
